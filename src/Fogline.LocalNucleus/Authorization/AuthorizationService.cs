using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Configuration;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Authorization;

/// <summary>How resources are matched: glob (<c>*</c>) only, or MQTT topic filters too.</summary>
public enum ResourceLookupPolicy
{
    /// <summary>Resources match literally, with <c>*</c> globs.</summary>
    Standard,

    /// <summary>Resources are MQTT topic filters: <c>+</c> and <c>#</c> match as in MQTT, besides <c>*</c>.</summary>
    MqttStyle,
}

/// <summary>
/// Authorization of IPC requests as the Greengrass Nucleus does it (its AuthorizationHandler and AuthorizationModule).
/// <para>
/// Policies come from each component's <c>accessControl</c> configuration:
/// <c>{destination: {policyId: {policyDescription, operations: [...], resources: [...]}}}</c>; the principal of a
/// policy is the component that declares it. Every destination (an IPC service such as
/// <c>aws.greengrass.ipc.pubsub</c>) has a registered set of operations (always including <c>*</c>). Whenever a
/// component is added or removed (<see cref="LoadPolicies"/>) or the accessControl part of its configuration changes,
/// the policies of all components are reloaded, destination by destination, as the Nucleus does: a destination that is
/// not registered is skipped; a destination with a blank policy id keeps what it had; a policy whose operations are
/// not registered for the destination is reported but still loaded; a resource that is not valid is reported and left
/// out.
/// </para>
/// <para>
/// A request (destination, principal, operation, resource) is allowed when a permission of {principal, operation},
/// {principal, *}, {*, operation} or {*, *} matches the resource (see <see cref="ResourceTrie"/> for matching). Lookups
/// read an immutable snapshot and allocate nothing when allowed.
/// </para>
/// </summary>
public sealed class AuthorizationService
{
    /// <summary>The wildcard principal or operation of a permission.</summary>
    public const string Any = "*";

    /// <summary>The operation the token exchange service authorizes (with no resource).</summary>
    public const string TokenExchangeOperation = "getCredentials";

    private const string Namespace = "aws.greengrass#";

    private readonly ConfigurationStore _configuration;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ComponentPolicies> _components = new(StringComparer.Ordinal);

    // The destinations whose policies loaded last time, with those policies (the Nucleus's componentToAuthZConfig).
    private readonly Dictionary<string, List<AuthorizationPolicy>> _loaded = new(StringComparer.Ordinal);

    private State _state;

    internal AuthorizationService(ConfigurationStore configuration, ILogger logger)
    {
        _configuration = configuration;
        _logger = logger;
        _state = new State(DefaultOperations(), FrozenDictionary<string, PermissionTable>.Empty);
        lock (_lock)
        {
            ReloadLocked();
        }
    }

    /// <summary>
    /// (Re)loads the accessControl policies of a component from its configuration, and keeps them current while the
    /// component's configuration changes. A component without configuration (removed) has its policies dropped.
    /// </summary>
    public void LoadPolicies(string component)
    {
        ArgumentNullException.ThrowIfNull(component);
        lock (_lock)
        {
            if (_components.Remove(component, out var previous))
            {
                previous.Watcher?.Dispose();
            }

            if (_configuration.HasComponent(component))
            {
                var entry = new ComponentPolicies(component);
                entry.Watcher = _configuration.Watch(component, [], (_, path) => OnConfigurationChanged(entry, path));
                entry.Read(ReadAccessControl(component), _logger);
                _components[component] = entry;
            }

            ReloadLocked();
        }
    }

    /// <summary>
    /// Registers operations for a destination (the Nucleus's registerComponent), adding <c>*</c>. As in the Nucleus,
    /// policies already read for a destination that was not registered are loaded at the next reload, not now.
    /// </summary>
    public void RegisterOperations(string destination, IEnumerable<string> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var list = operations.ToList();
        if (list.Count == 0 || PermissionTable.IsBlank(destination))
        {
            throw new ArgumentException("Invalid arguments for registerComponent()");
        }

        lock (_lock)
        {
            var state = _state;
            var all = state.Operations.ToDictionary(p => p.Key, p => new HashSet<string>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
            if (!all.TryGetValue(destination, out var set))
            {
                set = new HashSet<string>(StringComparer.Ordinal);
                all[destination] = set;
            }

            set.UnionWith(list);
            set.Add(Any);
            AuthorizationLog.DestinationRegistered(_logger, destination, string.Join(", ", set));
            Volatile.Write(ref _state, new State(Freeze(all), state.Permissions));
        }
    }

    /// <summary>
    /// Throws <see cref="UnauthorizedException"/> with the Nucleus's message unless <paramref name="principal"/> may
    /// perform <paramref name="operation"/> of <paramref name="destination"/> on <paramref name="resource"/>. A null
    /// resource is allowed by any permission of the principal and operation (the token exchange service checks so).
    /// </summary>
    public void Authorize(string destination, string principal, string operation, string? resource, ResourceLookupPolicy lookup = ResourceLookupPolicy.Standard)
    {
        var verdict = Evaluate(destination, principal, operation, resource, lookup);
        if (verdict != Verdict.Allowed)
        {
            var message = Message(verdict, destination, principal, operation, resource);
            AuthorizationLog.Denied(_logger, message);
            throw new UnauthorizedException(message);
        }
    }

    /// <summary>Whether <see cref="Authorize"/> would allow the request.</summary>
    public bool IsAuthorized(string destination, string principal, string operation, string? resource, ResourceLookupPolicy lookup = ResourceLookupPolicy.Standard) =>
        Evaluate(destination, principal, operation, resource, lookup) == Verdict.Allowed;

    /// <summary>
    /// The resources (as written in the policies) that <paramref name="principal"/> is granted for
    /// <paramref name="operation"/> of <paramref name="destination"/>, through permissions of {principal, operation},
    /// {*, operation} and {principal, *} (not {*, *}), as the Nucleus's getAuthorizedResources. A policy without
    /// resources contributes null. Throws <see cref="UnauthorizedException"/> for an unregistered destination or
    /// operation, and for a blank or <c>*</c> principal or operation ("Invalid arguments").
    /// </summary>
    public IReadOnlySet<string?> GetAuthorizedResources(string destination, string principal, string operation)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(operation);
        var state = Volatile.Read(ref _state);
        var verdict = CheckOperation(state, destination, operation);
        if (verdict == Verdict.Allowed && (PermissionTable.IsBlank(principal) || PermissionTable.IsBlank(operation) || principal == Any || operation == Any))
        {
            verdict = Verdict.InvalidArguments;
        }

        if (verdict != Verdict.Allowed)
        {
            throw new UnauthorizedException(Message(verdict, destination, principal, operation, null));
        }

        var result = new HashSet<string?>(StringComparer.Ordinal);
        if (state.Permissions.TryGetValue(destination, out var table))
        {
            AddResources(result, table, principal, operation);
            AddResources(result, table, Any, operation);
            AddResources(result, table, principal, Any);
        }

        return result;
    }

    private static void AddResources(HashSet<string?> result, PermissionTable table, string principal, string operation)
    {
        if (table.TryGet(principal, operation, out var permission))
        {
            result.UnionWith(permission.Resources);
        }
    }

    private Verdict Evaluate(string destination, string principal, string operation, string? resource, ResourceLookupPolicy lookup)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(operation);
        var state = Volatile.Read(ref _state);
        var verdict = CheckOperation(state, destination, operation);
        if (verdict != Verdict.Allowed)
        {
            return verdict;
        }

        if (PermissionTable.IsBlank(principal) || PermissionTable.IsBlank(operation))
        {
            return Verdict.InvalidArguments;
        }

        if (resource is not null && PermissionTable.IsBlank(resource))
        {
            return Verdict.EmptyResource;
        }

        if (!state.Permissions.TryGetValue(destination, out var table))
        {
            return Verdict.Denied;
        }

        // From the most specific permission to the least, as the Nucleus looks them up.
        if (Matches(table, principal, operation, resource, lookup)
            || Matches(table, principal, Any, resource, lookup)
            || Matches(table, Any, operation, resource, lookup)
            || Matches(table, Any, Any, resource, lookup))
        {
            return Verdict.Allowed;
        }

        return Verdict.Denied;

        bool Matches(PermissionTable permissions, string withPrincipal, string withOperation, string? onResource, ResourceLookupPolicy how)
        {
            if (!permissions.TryGet(withPrincipal, withOperation, out var permission) || !permission.Trie.Matches(onResource, how))
            {
                return false;
            }

            AuthorizationLog.Allowed(_logger, destination, operation, onResource, principal, withPrincipal, withOperation);
            return true;
        }
    }

    // The Nucleus's isOperationValid.
    private static Verdict CheckOperation(State state, string destination, string operation)
    {
        if (PermissionTable.IsBlank(destination))
        {
            return Verdict.DestinationNotSpecified;
        }

        if (!state.Operations.TryGetValue(destination, out var operations))
        {
            return Verdict.DestinationNotRegistered;
        }

        return operations.Contains(operation) ? Verdict.Allowed : Verdict.OperationNotRegistered;
    }

    private static string Message(Verdict verdict, string destination, string principal, string operation, string? resource) => verdict switch
    {
        Verdict.DestinationNotSpecified => "Component name is not specified: " + destination,
        Verdict.DestinationNotRegistered => "Component not registered: " + destination,
        Verdict.OperationNotRegistered => $"Component {destination} not registered for operation {operation}",
        Verdict.InvalidArguments => "Invalid arguments",
        Verdict.EmptyResource => "Resource cannot be empty",
        _ => $"Principal {principal} is not authorized to perform {destination}:{operation} on resource {resource ?? "null"}",
    };

    private void OnConfigurationChanged(ComponentPolicies entry, IReadOnlyList<string> path)
    {
        // The Nucleus reloads when something at or under accessControl changes (its config keys ignore case).
        if (path.Count > 0 && !string.Equals(path[0], AuthorizationPolicyParser.AccessControlKey, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        lock (_lock)
        {
            if (!_components.TryGetValue(entry.Component, out var current) || !ReferenceEquals(current, entry))
            {
                return;
            }

            if (entry.Read(ReadAccessControl(entry.Component), _logger))
            {
                ReloadLocked();
            }
        }
    }

    // accessControl of the component's configuration; the Nucleus's configuration keys are case-insensitive.
    private JsonNode? ReadAccessControl(string component)
    {
        var value = _configuration.GetValue(component, [AuthorizationPolicyParser.AccessControlKey]);
        if (value is not null)
        {
            return value;
        }

        var root = _configuration.Snapshot(component);
        if (root is null)
        {
            return null;
        }

        foreach (var (key, child) in root)
        {
            if (string.Equals(key, AuthorizationPolicyParser.AccessControlKey, StringComparison.OrdinalIgnoreCase))
            {
                return child;
            }
        }

        return null;
    }

    // The Nucleus's reload: parse every component's policies, add the default policies, drop destinations nobody
    // declares any more, then load each destination's policies afresh.
    private void ReloadLocked()
    {
        var reloaded = new Dictionary<string, List<AuthorizationPolicy>>(StringComparer.Ordinal);
        foreach (var (_, component) in _components.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            foreach (var (destination, policies) in component.Policies)
            {
                if (!reloaded.TryGetValue(destination, out var list))
                {
                    list = [];
                    reloaded[destination] = list;
                }

                list.AddRange(policies);
            }
        }

        // The default policies replace whatever components declared for their destination.
        reloaded[IpcServices.TokenExchange] =
        [
            new AuthorizationPolicy("default-" + TokenExchangeOperation, "Default policy for " + TokenExchangeOperation, [Any], [TokenExchangeOperation], null),
        ];

        var state = _state;
        var permissions = new Dictionary<string, PermissionTable>(state.Permissions, StringComparer.Ordinal);
        foreach (var destination in _loaded.Keys.ToList())
        {
            if (!reloaded.ContainsKey(destination))
            {
                _loaded.Remove(destination);
                permissions.Remove(destination);
                AuthorizationLog.DestinationRemoved(_logger, destination);
            }
        }

        foreach (var (destination, policies) in reloaded)
        {
            LoadDestination(state, destination, policies, permissions);
        }

        Volatile.Write(ref _state, new State(state.Operations, permissions.ToFrozenDictionary(StringComparer.Ordinal)));
    }

    // The Nucleus's loadAuthorizationPolicies for one destination.
    private void LoadDestination(State state, string destination, List<AuthorizationPolicy> policies, Dictionary<string, PermissionTable> permissions)
    {
        if (PermissionTable.IsBlank(destination))
        {
            AuthorizationLog.InvalidDestination(_logger, destination, "Component name is not specified: " + destination);
            return;
        }

        if (!state.Operations.TryGetValue(destination, out var registered))
        {
            AuthorizationLog.InvalidDestination(_logger, destination, "Component not registered: " + destination);
            return;
        }

        if (policies.Exists(p => PermissionTable.IsBlank(p.PolicyId)))
        {
            // Nothing changes for the destination: what was loaded before stays.
            AuthorizationLog.InvalidPolicy(_logger, destination, "Malformed policy with empty/null policy IDs");
            return;
        }

        // Validation only reports: the permissions are added all the same.
        foreach (var policy in policies)
        {
            if (policy.Principals.Count == 0)
            {
                AuthorizationLog.InvalidPrincipal(_logger, destination, policy.PolicyId, "Malformed policy with invalid/empty principal: " + policy.PolicyId);
                continue;
            }

            var unknown = policy.Principals.Where(p => p != Any && !_configuration.HasComponent(p)).ToList();
            if (unknown.Count > 0)
            {
                AuthorizationLog.InvalidPrincipal(_logger, destination, policy.PolicyId, $"Principal [{string.Join(", ", unknown)}] in auth policy are not valid components");
                continue;
            }

            if (policy.Operations.Count == 0)
            {
                AuthorizationLog.InvalidOperation(_logger, destination, policy.PolicyId, "Malformed policy with invalid/empty operations: " + policy.PolicyId);
            }
            else if (policy.Operations.Any(o => !registered.Contains(o)))
            {
                AuthorizationLog.InvalidOperation(_logger, destination, policy.PolicyId, "Operation not registered with component " + destination);
            }
        }

        var table = new PermissionTable.Builder();
        foreach (var policy in policies)
        {
            AddPolicy(table, destination, policy);
        }

        permissions[destination] = table.Build();
        _loaded[destination] = policies;
        AuthorizationLog.DestinationLoaded(_logger, destination, policies.Count);
    }

    // The Nucleus's addPermission: every principal × operation × resource; a policy without resources grants the
    // null resource. A bad resource is reported and skipped; a bad principal or operation with no resources stops the
    // rest of the policy.
    private void AddPolicy(PermissionTable.Builder table, string destination, AuthorizationPolicy policy)
    {
        foreach (var principal in policy.Principals)
        {
            foreach (var operation in policy.Operations)
            {
                if (policy.Resources is null || policy.Resources.Count == 0)
                {
                    if (table.Add(destination, principal, operation, null) is { } error)
                    {
                        AuthorizationLog.PermissionRejected(_logger, destination, policy.PolicyId, error);
                        return;
                    }

                    continue;
                }

                foreach (var resource in policy.Resources)
                {
                    if (table.Add(destination, principal, operation, resource) is { } error)
                    {
                        AuthorizationLog.ResourceRejected(_logger, destination, policy.PolicyId, principal, operation, resource, error);
                    }
                }
            }
        }
    }

    // The Nucleus's componentToOperationsMap as it stands once its IPC services have registered.
    private static FrozenDictionary<string, FrozenSet<string>> DefaultOperations()
    {
        var operations = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
        {
            [IpcServices.TokenExchange] = [TokenExchangeOperation],
            [IpcServices.PubSub] = [Namespace + "PublishToTopic", Namespace + "SubscribeToTopic", Any],
            [IpcServices.MqttProxy] = [Namespace + "PublishToIoTCore", Namespace + "SubscribeToIoTCore", Any],
            [IpcServices.SecretManager] = [Namespace + "GetSecretValue", Any],
            [IpcServices.ShadowManager] =
            [
                Namespace + "GetThingShadow", Namespace + "UpdateThingShadow", Namespace + "DeleteThingShadow",
                Namespace + "ListNamedShadowsForThing", Any,
            ],
            [IpcServices.Lifecycle] = [Namespace + "PauseComponent", Namespace + "ResumeComponent", Any],
            [IpcServices.ClientDeviceAuth] =
            [
                Namespace + "SubscribeToCertificateUpdates", Namespace + "VerifyClientDeviceIdentity",
                Namespace + "GetClientDeviceAuthToken", Namespace + "AuthorizeClientDeviceAction", Any,
            ],
            [IpcServices.Cli] =
            [
                Namespace + "GetComponentDetails", Namespace + "ListComponents", Namespace + "RestartComponent",
                Namespace + "StopComponent", Namespace + "CreateLocalDeployment", Namespace + "GetLocalDeploymentStatus",
                Namespace + "ListLocalDeployments", Namespace + "CreateDebugPassword", Any,
            ],
            [IpcServices.ComponentMetric] = [Namespace + "PutComponentMetric", Any],
        };
        return Freeze(operations);
    }

    private static FrozenDictionary<string, FrozenSet<string>> Freeze(Dictionary<string, HashSet<string>> operations) =>
        operations.ToFrozenDictionary(p => p.Key, p => p.Value.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);

    private enum Verdict
    {
        Allowed,
        Denied,
        DestinationNotSpecified,
        DestinationNotRegistered,
        OperationNotRegistered,
        InvalidArguments,
        EmptyResource,
    }

    /// <summary>What lookups read: replaced whole, never changed.</summary>
    private sealed class State
    {
        public State(FrozenDictionary<string, FrozenSet<string>> operations, FrozenDictionary<string, PermissionTable> permissions)
        {
            Operations = operations;
            Permissions = permissions;
        }

        public FrozenDictionary<string, FrozenSet<string>> Operations { get; }

        public FrozenDictionary<string, PermissionTable> Permissions { get; }
    }

    /// <summary>A component's policies as last read from its configuration, and the watcher keeping them current.</summary>
    private sealed class ComponentPolicies
    {
        private JsonNode? _accessControl;
        private bool _read;

        public ComponentPolicies(string component)
        {
            Component = component;
        }

        public string Component { get; }

        public IDisposable? Watcher { get; set; }

        public List<KeyValuePair<string, List<AuthorizationPolicy>>> Policies { get; private set; } = [];

        /// <summary>Parses the accessControl value; false when it is the same as last time.</summary>
        public bool Read(JsonNode? accessControl, ILogger logger)
        {
            if (_read && JsonNode.DeepEquals(_accessControl, accessControl))
            {
                return false;
            }

            _read = true;
            _accessControl = accessControl;
            Policies = AuthorizationPolicyParser.ParseComponent(Component, accessControl, logger);
            AuthorizationLog.ComponentPoliciesRead(logger, Component, Policies.Count);
            return true;
        }
    }
}
