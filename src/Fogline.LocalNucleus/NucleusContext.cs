using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Configuration;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus;

/// <summary>What every subsystem of the local Nucleus is built from.</summary>
public sealed class NucleusContext
{
    internal NucleusContext(NucleusOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        LoggerFactory = loggerFactory;
        Time = options.TimeProvider;
        Components = new ComponentRegistry(Time);
        Configuration = new ConfigurationStore(Time);
        Authorization = new AuthorizationService(Configuration, loggerFactory.CreateLogger("Fogline.LocalNucleus.Authorization"));
    }

    /// <summary>The options.</summary>
    public NucleusOptions Options { get; }

    /// <summary>Loggers.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>The components.</summary>
    public ComponentRegistry Components { get; }

    /// <summary>The components' configuration.</summary>
    public ConfigurationStore Configuration { get; }

    /// <summary>Authorization as the Nucleus does it.</summary>
    public AuthorizationService Authorization { get; }

    /// <summary>The root directory.</summary>
    public string RootPath => Options.RootPath;
}
