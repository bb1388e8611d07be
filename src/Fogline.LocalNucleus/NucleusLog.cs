using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus;

/// <summary>Log messages of the local Nucleus, with stable event ids (2000-2999; each area owns a hundred).</summary>
internal static partial class NucleusLog
{
    [LoggerMessage(2000, LogLevel.Error, "Unhandled exception in IPC {Operation} for {Component}; answered ServiceError")]
    public static partial void UnhandledInIpc(ILogger logger, string operation, string component, Exception exception);
}
