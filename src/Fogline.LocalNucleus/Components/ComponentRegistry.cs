using System.Collections.Concurrent;
using System.Security.Cryptography;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Components;

/// <summary>A lifecycle state change of a component.</summary>
/// <param name="Component">The component.</param>
/// <param name="Previous">Its state before.</param>
/// <param name="Current">Its state now.</param>
public sealed record ComponentStateChange(ComponentRecord Component, LifecycleState Previous, LifecycleState Current);

/// <summary>The components the local Nucleus knows, by name and by IPC token.</summary>
public sealed class ComponentRegistry
{
    private readonly ConcurrentDictionary<string, ComponentRecord> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ComponentRecord> _byToken = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    internal ComponentRegistry(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Raised after every state change (on the thread that changed it).</summary>
    public event EventHandler<ComponentStateChange>? StateChanged;

    /// <summary>All components, in no particular order.</summary>
    public IReadOnlyCollection<ComponentRecord> All => [.. _byName.Values];

    /// <summary>Adds a component with a fresh token, or returns the existing one (its version updated).</summary>
    public ComponentRecord Register(string name, string version)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var record = _byName.GetOrAdd(name, n =>
        {
            var created = new ComponentRecord(n, version, NewToken(), _time.GetUtcNow());
            _byToken[created.Token] = created;
            return created;
        });
        record.Version = version;
        return record;
    }

    /// <summary>Removes a component; its token stops working.</summary>
    public bool Remove(string name)
    {
        if (_byName.TryRemove(name, out var record))
        {
            _byToken.TryRemove(record.Token, out _);
            return true;
        }

        return false;
    }

    /// <summary>Finds a component by name.</summary>
    public bool TryGet(string name, out ComponentRecord component) => _byName.TryGetValue(name, out component!);

    /// <summary>Finds the component a token belongs to.</summary>
    public bool TryGetByToken(string token, out ComponentRecord component) => _byToken.TryGetValue(token, out component!);

    /// <summary>Moves a component to a lifecycle state and raises <see cref="StateChanged"/>.</summary>
    public void SetState(ComponentRecord component, LifecycleState state)
    {
        ArgumentNullException.ThrowIfNull(component);
        var previous = component.SetState(state, _time.GetUtcNow());
        if (previous != state)
        {
            StateChanged?.Invoke(this, new ComponentStateChange(component, previous, state));
        }
    }

    private static string NewToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
}
