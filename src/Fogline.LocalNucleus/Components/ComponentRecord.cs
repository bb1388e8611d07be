using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Components;

/// <summary>A component known to the local Nucleus: its name, version, IPC token and lifecycle state.</summary>
public sealed class ComponentRecord
{
    private readonly Lock _lock = new();
    private LifecycleState _state = LifecycleState.New;

    internal ComponentRecord(string name, string version, string token, DateTimeOffset now)
    {
        Name = name;
        Version = version;
        Token = token;
        StateChangedAt = now;
    }

    /// <summary>The component name.</summary>
    public string Name { get; }

    /// <summary>The component version.</summary>
    public string Version { get; internal set; }

    /// <summary>The component's IPC auth token (<c>SVCUID</c>). Secret: never log it.</summary>
    public string Token { get; }

    /// <summary>The lifecycle state.</summary>
    public LifecycleState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>When the state last changed.</summary>
    public DateTimeOffset StateChangedAt { get; private set; }

    /// <summary>Its errors, as the Nucleus counts them to decide when it is BROKEN.</summary>
    public ErrorHistory Errors { get; } = new();

    /// <summary>Whether the component is paused (PauseComponent).</summary>
    public bool IsPaused { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}@{Version} ({State})";

    /// <summary>Sets the state; returns the previous one.</summary>
    internal LifecycleState SetState(LifecycleState state, DateTimeOffset now)
    {
        lock (_lock)
        {
            var previous = _state;
            _state = state;
            StateChangedAt = now;
            return previous;
        }
    }
}

/// <summary>Who is on an IPC connection: the component its token belongs to.</summary>
/// <param name="Component">The component.</param>
public sealed record ComponentIdentity(ComponentRecord Component)
{
    /// <summary>The component name (the principal in authorization).</summary>
    public string ComponentName => Component.Name;

    /// <inheritdoc />
    public override string ToString() => Component.Name;
}
