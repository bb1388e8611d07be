using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Fogline.Aws;
using Fogline.Aws.Iot;
using Fogline.LocalCloud.Http;

namespace Fogline.LocalCloud.Iot;

/// <summary>
/// AWS IoT's registry as the service answers it, per account and region: things (CreateThing, which gives back the
/// existing thing when asked again with the same type and attributes and refuses different ones; DescribeThing,
/// ListThings, DeleteThing with its expected version) and static thing groups with parents (CreateThingGroup,
/// DescribeThingGroup with the chain of parents, ListThingGroups, DeleteThingGroup), and membership
/// (AddThingToThingGroup, RemoveThingFromThingGroup, ListThingsInThingGroup with <c>recursive</c>,
/// ListThingGroupsForThing). Names are checked against the model's patterns; what is missing is a
/// ResourceNotFoundException. Greengrass deployments target these things and groups.
/// </summary>
internal sealed partial class IotRegistryService
{
    private const int DefaultPageSize = 25;
    private const int MaxGroupsPerThing = 10;
    private readonly string _dataDirectory;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Account, string Region), ThingRegistry> _registries = new();
    private readonly ConcurrentDictionary<string, (string Account, string Region)> _located = new(StringComparer.Ordinal);

    public IotRegistryService(string dataDirectory, TimeProvider time)
    {
        _dataDirectory = dataDirectory;
        _time = time;
    }

    /// <summary>Raised after a thing joined a group: (account, region, thing, the group and every group above it).</summary>
    public event Action<string, string, string, IReadOnlyList<string>>? ThingAddedToGroup;

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(IotOperations.CreateThing, (input, request) => Task.FromResult(CreateThing(input, request)));
        endpoint.Handle(IotOperations.DescribeThing, (input, request) => Task.FromResult(DescribeThing(input, request)));
        endpoint.Handle(IotOperations.ListThings, (input, request) => Task.FromResult(ListThings(input, request)));
        endpoint.Handle(IotOperations.DeleteThing, (input, request) => Task.FromResult(DeleteThing(input, request)));
        endpoint.Handle(IotOperations.CreateThingGroup, (input, request) => Task.FromResult(CreateThingGroup(input, request)));
        endpoint.Handle(IotOperations.DescribeThingGroup, (input, request) => Task.FromResult(DescribeThingGroup(input, request)));
        endpoint.Handle(IotOperations.ListThingGroups, (input, request) => Task.FromResult(ListThingGroups(input, request)));
        endpoint.Handle(IotOperations.DeleteThingGroup, (input, request) => Task.FromResult(DeleteThingGroup(input, request)));
        endpoint.Handle(IotOperations.AddThingToThingGroup, (input, request) => Task.FromResult(AddThingToThingGroup(input, request)));
        endpoint.Handle(IotOperations.RemoveThingFromThingGroup, (input, request) => Task.FromResult(RemoveThingFromThingGroup(input, request)));
        endpoint.Handle(IotOperations.ListThingsInThingGroup, (input, request) => Task.FromResult(ListThingsInThingGroup(input, request)));
        endpoint.Handle(IotOperations.ListThingGroupsForThing, (input, request) => Task.FromResult(ListThingGroupsForThing(input, request)));
    }

    /// <summary>The registry of an account in a region (for the Greengrass deployment APIs).</summary>
    public ThingRegistry RegistryOf(string account, string region) => _registries.GetOrAdd((account, region), key => ThingRegistry.Load(_dataDirectory, key.Account, key.Region));

    /// <summary>The account and region whose registry holds <paramref name="thing"/> (the first found), or null.</summary>
    public (string Account, string Region)? LocateThing(string thing)
    {
        // Every message from a device asks this: where it was found last time is checked first (a thing deleted
        // since is looked for again), so the data directory is scanned once per thing, not once per message.
        if (_located.TryGetValue(thing, out var known) && Holds(known, thing))
        {
            return known;
        }

        var root = Path.Combine(_dataDirectory, "iot");
        var places = Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).SelectMany(a => Directory.EnumerateDirectories(a).Select(r => (Path.GetFileName(a), Path.GetFileName(r))))
            : [];
        foreach (var (account, region) in places.Concat(_registries.Keys).Distinct().Order())
        {
            if (Holds((account, region), thing))
            {
                _located[thing] = (account, region);
                return (account, region);
            }
        }

        return null;
    }

    private bool Holds((string Account, string Region) place, string thing)
    {
        var registry = RegistryOf(place.Account, place.Region);
        lock (registry.Sync)
        {
            return registry.Things.ContainsKey(thing);
        }
    }

    public static string ThingArn(string region, string account, string name) => $"arn:aws:iot:{region}:{account}:thing/{name}";

    public static string GroupArn(string region, string account, string name) => $"arn:aws:iot:{region}:{account}:thinggroup/{name}";

    private ThingRegistry Registry(CloudRequest request) => RegistryOf(request.Caller.AccountId, request.Region);

    private CreateThingResponse CreateThing(CreateThingRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingName, "thingName");
        var attributes = new Dictionary<string, string>(input.AttributePayload?.Attributes ?? [], StringComparer.Ordinal);
        var registry = Registry(request);
        lock (registry.Sync)
        {
            if (registry.Things.TryGetValue(name, out var existing))
            {
                if (existing.TypeName != input.ThingTypeName || !Same(existing.Attributes, attributes))
                {
                    throw IotErrors.CreateResourceAlreadyExistsException($"Thing {name} already exists in account with different attributes", existing.Id, ThingArn(request.Region, request.Caller.AccountId, name));
                }
            }
            else
            {
                existing = new ThingRecord { Name = name, Id = Guid.NewGuid().ToString(), TypeName = input.ThingTypeName, Attributes = attributes };
                registry.Things[name] = existing;
                registry.Save();
            }

            return new CreateThingResponse { ThingName = name, ThingArn = ThingArn(request.Region, request.Caller.AccountId, name), ThingId = existing.Id };
        }
    }

    private DescribeThingResponse DescribeThing(DescribeThingRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingName, "thingName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            var thing = FindThing(registry, name);
            return new DescribeThingResponse
            {
                DefaultClientId = thing.Name,
                ThingName = thing.Name,
                ThingId = thing.Id,
                ThingArn = ThingArn(request.Region, request.Caller.AccountId, thing.Name),
                ThingTypeName = thing.TypeName,
                Attributes = new Dictionary<string, string>(thing.Attributes),
                Version = thing.Version,
            };
        }
    }

    private ListThingsResponse ListThings(ListThingsRequest input, CloudRequest request)
    {
        var registry = Registry(request);
        lock (registry.Sync)
        {
            var things = registry.Things.Values
                .Where(t => input.ThingTypeName is null || t.TypeName == input.ThingTypeName)
                .Where(t => input.AttributeName is null || (t.Attributes.TryGetValue(input.AttributeName, out var value)
                    && (input.AttributeValue is null || (input.UsePrefixAttributeValue == true ? value.StartsWith(input.AttributeValue, StringComparison.Ordinal) : value == input.AttributeValue))))
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .ToList();
            var (page, next) = Page(things, input.MaxResults, input.NextToken);
            return new ListThingsResponse
            {
                Things = [.. page.Select(t => new ThingAttribute
                {
                    ThingName = t.Name,
                    ThingTypeName = t.TypeName,
                    ThingArn = ThingArn(request.Region, request.Caller.AccountId, t.Name),
                    Attributes = new Dictionary<string, string>(t.Attributes),
                    Version = t.Version,
                })],
                NextToken = next,
            };
        }
    }

    private DeleteThingResponse DeleteThing(DeleteThingRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingName, "thingName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            if (registry.Things.TryGetValue(name, out var thing))
            {
                if (input.ExpectedVersion is { } expected && expected != thing.Version)
                {
                    throw IotErrors.CreateVersionConflictException($"The version for thing {name} does not match the expected version.");
                }

                registry.Things.Remove(name);
                registry.Save();
            }

            return new DeleteThingResponse();
        }
    }

    private CreateThingGroupResponse CreateThingGroup(CreateThingGroupRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingGroupName, "thingGroupName");
        var parent = input.ParentGroupName is null ? null : CheckName(input.ParentGroupName, "parentGroupName");
        var description = input.ThingGroupProperties?.ThingGroupDescription;
        var attributes = new Dictionary<string, string>(input.ThingGroupProperties?.AttributePayload?.Attributes ?? [], StringComparer.Ordinal);
        var registry = Registry(request);
        lock (registry.Sync)
        {
            if (parent is not null && !registry.Groups.ContainsKey(parent))
            {
                throw NotFound($"Thing Group {parent} does not exist");
            }

            if (registry.Groups.TryGetValue(name, out var existing))
            {
                if (existing.Parent != parent || existing.Description != description || !Same(existing.Attributes, attributes))
                {
                    throw IotErrors.CreateResourceAlreadyExistsException($"Thing Group {name} already exists in account with different properties", existing.Id, GroupArn(request.Region, request.Caller.AccountId, name));
                }
            }
            else
            {
                existing = new ThingGroupRecord { Name = name, Id = Guid.NewGuid().ToString(), Parent = parent, Description = description, Attributes = attributes, Created = _time.GetUtcNow() };
                registry.Groups[name] = existing;
                registry.Save();
            }

            return new CreateThingGroupResponse { ThingGroupName = name, ThingGroupArn = GroupArn(request.Region, request.Caller.AccountId, name), ThingGroupId = existing.Id };
        }
    }

    private DescribeThingGroupResponse DescribeThingGroup(DescribeThingGroupRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingGroupName, "thingGroupName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            var group = FindGroup(registry, name);
            return new DescribeThingGroupResponse
            {
                ThingGroupName = group.Name,
                ThingGroupId = group.Id,
                ThingGroupArn = GroupArn(request.Region, request.Caller.AccountId, group.Name),
                Version = group.Version,
                ThingGroupProperties = new ThingGroupProperties
                {
                    ThingGroupDescription = group.Description,
                    AttributePayload = group.Attributes.Count == 0 ? null : new AttributePayload { Attributes = new Dictionary<string, string>(group.Attributes) },
                },
                ThingGroupMetadata = new ThingGroupMetadata
                {
                    ParentGroupName = group.Parent,
                    RootToParentThingGroups = group.Parent is null ? null : [.. registry.Ancestors(group.Name).Select(g => new GroupNameAndArn { GroupName = g, GroupArn = GroupArn(request.Region, request.Caller.AccountId, g) })],
                    CreationDate = group.Created,
                },
                Status = "ACTIVE",
            };
        }
    }

    private ListThingGroupsResponse ListThingGroups(ListThingGroupsRequest input, CloudRequest request)
    {
        var registry = Registry(request);
        lock (registry.Sync)
        {
            IEnumerable<ThingGroupRecord> groups = registry.Groups.Values;
            if (input.ParentGroup is { } parent)
            {
                var under = input.Recursive == true ? registry.Subtree(parent).Skip(1).ToHashSet(StringComparer.Ordinal) : null;
                groups = groups.Where(g => under?.Contains(g.Name) ?? g.Parent == parent);
            }
            else if (input.Recursive == false)
            {
                groups = groups.Where(g => g.Parent is null);
            }

            var list = groups.Where(g => input.NamePrefixFilter is null || g.Name.StartsWith(input.NamePrefixFilter, StringComparison.Ordinal)).OrderBy(g => g.Name, StringComparer.Ordinal).ToList();
            var (page, next) = Page(list, input.MaxResults, input.NextToken);
            return new ListThingGroupsResponse { ThingGroups = [.. page.Select(g => new GroupNameAndArn { GroupName = g.Name, GroupArn = GroupArn(request.Region, request.Caller.AccountId, g.Name) })], NextToken = next };
        }
    }

    private DeleteThingGroupResponse DeleteThingGroup(DeleteThingGroupRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingGroupName, "thingGroupName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            if (registry.Groups.TryGetValue(name, out var group))
            {
                if (input.ExpectedVersion is { } expected && expected != group.Version)
                {
                    throw IotErrors.CreateVersionConflictException($"The version for thing group {name} does not match the expected version.");
                }

                if (registry.Groups.Values.Any(g => g.Parent == name))
                {
                    throw IotErrors.CreateInvalidRequestException($"Cannot delete thing group : {name} when it has child groups");
                }

                registry.Groups.Remove(name);
                foreach (var thing in registry.Things.Values)
                {
                    thing.Groups.Remove(name);
                }

                registry.Save();
            }

            return new DeleteThingGroupResponse();
        }
    }

    private AddThingToThingGroupResponse AddThingToThingGroup(AddThingToThingGroupRequest input, CloudRequest request)
    {
        var registry = Registry(request);
        List<string>? added = null;
        ThingRecord thing;
        lock (registry.Sync)
        {
            (thing, var group) = Membership(registry, input.ThingName, input.ThingArn, input.ThingGroupName, input.ThingGroupArn);
            if (!thing.Groups.Contains(group.Name))
            {
                if (thing.Groups.Count >= MaxGroupsPerThing)
                {
                    throw IotErrors.CreateLimitExceededException($"Thing {thing.Name} is already in {MaxGroupsPerThing} thing groups, the most a thing can be in.");
                }

                thing.Groups.Add(group.Name);
                registry.Save();
                added = [group.Name, .. registry.Ancestors(group.Name)];
            }
        }

        if (added is not null)
        {
            ThingAddedToGroup?.Invoke(request.Caller.AccountId, request.Region, thing.Name, added);
        }

        return new AddThingToThingGroupResponse();
    }

    private RemoveThingFromThingGroupResponse RemoveThingFromThingGroup(RemoveThingFromThingGroupRequest input, CloudRequest request)
    {
        var registry = Registry(request);
        lock (registry.Sync)
        {
            var (thing, group) = Membership(registry, input.ThingName, input.ThingArn, input.ThingGroupName, input.ThingGroupArn);
            if (thing.Groups.Remove(group.Name))
            {
                registry.Save();
            }

            return new RemoveThingFromThingGroupResponse();
        }
    }

    private ListThingsInThingGroupResponse ListThingsInThingGroup(ListThingsInThingGroupRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingGroupName, "thingGroupName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            FindGroup(registry, name);
            var groups = (input.Recursive == true ? registry.Subtree(name) : [name]).ToHashSet(StringComparer.Ordinal);
            var things = registry.Things.Values.Where(t => t.Groups.Overlaps(groups)).Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
            var (page, next) = Page(things, input.MaxResults, input.NextToken);
            return new ListThingsInThingGroupResponse { Things = [.. page], NextToken = next };
        }
    }

    private ListThingGroupsForThingResponse ListThingGroupsForThing(ListThingGroupsForThingRequest input, CloudRequest request)
    {
        var name = CheckName(input.ThingName, "thingName");
        var registry = Registry(request);
        lock (registry.Sync)
        {
            var thing = FindThing(registry, name);
            var (page, next) = Page(thing.Groups.ToList(), input.MaxResults, input.NextToken);
            return new ListThingGroupsForThingResponse { ThingGroups = [.. page.Select(g => new GroupNameAndArn { GroupName = g, GroupArn = GroupArn(request.Region, request.Caller.AccountId, g) })], NextToken = next };
        }
    }

    private static (ThingRecord Thing, ThingGroupRecord Group) Membership(ThingRegistry registry, string? thingName, string? thingArn, string? groupName, string? groupArn)
    {
        var thing = FindThing(registry, CheckName(thingName ?? NameFromArn(thingArn, "thing/"), "thingName"));
        var group = FindGroup(registry, CheckName(groupName ?? NameFromArn(groupArn, "thinggroup/"), "thingGroupName"));
        return (thing, group);
    }

    private static string? NameFromArn(string? arn, string marker) =>
        arn is not null && arn.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0 ? arn[(at + marker.Length)..] : null;

    private static ThingRecord FindThing(ThingRegistry registry, string name) =>
        registry.Things.GetValueOrDefault(name) ?? throw NotFound($"Thing {name} cannot be found.");

    private static ThingGroupRecord FindGroup(ThingRegistry registry, string name) =>
        registry.Groups.GetValueOrDefault(name) ?? throw NotFound($"Thing Group {name} does not exist");

    private static AwsServiceException NotFound(string message) => IotErrors.CreateResourceNotFoundException(message);

    private static string CheckName(string? name, string member)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw IotErrors.CreateInvalidRequestException($"{member} is required.");
        }

        if (name.Length > 128 || !NamePattern().IsMatch(name))
        {
            throw IotErrors.CreateInvalidRequestException($"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+");
        }

        return name;
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) => a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);

    private static (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> items, int? maxResults, string? nextToken) =>
        Paging.Page(items, maxResults, nextToken, DefaultPageSize, 250, (member, message) => IotErrors.CreateInvalidRequestException(message));

    [GeneratedRegex("^[a-zA-Z0-9:_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
