using System.Text.Json.Nodes;
using Fogline.LocalNucleus.Configuration;

namespace Fogline.LocalNucleus.Tests.Configuration;

public class ConfigurationStoreTests
{
    private static ConfigurationStore NewStore(out ManualClock clock)
    {
        clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
        var store = (ConfigurationStore)Activator.CreateInstance(typeof(ConfigurationStore), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance, null, [clock], null)!;
        return store;
    }

    [Test]
    public void Get_Leaf_IsAnObjectWithTheLeafNameAsTheOnlyKey()
    {
        var store = NewStore(out _);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":{"b":5}}""")!.AsObject());

        Assert.That(store.Get("c", ["a", "b"])!.ToJsonString(), Is.EqualTo("""{"b":5}"""));
        Assert.That(store.Get("c", ["a"])!.ToJsonString(), Is.EqualTo("""{"b":5}"""));
        Assert.That(store.Get("c", [])!.ToJsonString(), Is.EqualTo("""{"a":{"b":5}}"""));
        Assert.That(store.Get("c", ["x"]), Is.Null);
        Assert.That(store.Get("other", ["a"]), Is.Null);
    }

    [Test]
    public void Merge_WithNewerTimestamp_ChangesLeaves_AndTellsWatchersTheChangedKeyPath()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":{"b":5,"c":"x"}}""")!.AsObject());
        var seen = new List<string>();
        using var watch = store.Watch("c", ["a"], (_, path) => seen.Add(string.Join("/", path)));

        store.Merge("c", ["a"], JsonNode.Parse("""{"b":6,"d":[1,2]}"""), clock.GetUtcNow().AddSeconds(1));

        Assert.That(store.Get("c", ["a"])!.ToJsonString(), Is.EqualTo("""{"b":6,"c":"x","d":[1,2]}"""));
        Assert.That(seen, Is.EquivalentTo(new[] { "a/b", "a/d" }));
    }

    [Test]
    public void Merge_WithOlderTimestamp_KeepsTheNewerValue_AndFails()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":{"b":5}}""")!.AsObject());

        var ex = Assert.Throws<ConfigurationTimestampException>(() => store.Merge("c", ["a"], JsonNode.Parse("""{"b":7}"""), clock.GetUtcNow().AddSeconds(-10)));

        Assert.That(ex!.Message, Is.EqualTo("Proposed timestamp is older than the config's latest modified timestamp"));
        Assert.That(store.GetValue("c", ["a", "b"])!.GetValue<int>(), Is.EqualTo(5));
    }

    [Test]
    public void Merge_SameValue_DoesNotNotify()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":1}""")!.AsObject());
        var seen = 0;
        using var watch = store.Watch("c", [], (_, _) => seen++);

        store.Merge("c", [], JsonNode.Parse("""{"a":1}"""), clock.GetUtcNow().AddSeconds(1));

        Assert.That(seen, Is.Zero);
    }

    [Test]
    public void Merge_ObjectIntoALeaf_OrValueOverAContainer_IsRejected()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":1,"o":{"x":1}}""")!.AsObject());

        Assert.Throws<ArgumentException>(() => store.Merge("c", [], JsonNode.Parse("""{"a":{"b":1}}"""), clock.GetUtcNow().AddSeconds(1)));
        Assert.Throws<ArgumentException>(() => store.Merge("c", [], JsonNode.Parse("""{"o":3}"""), clock.GetUtcNow().AddSeconds(1)));
    }

    [Test]
    public void Merge_CreatesMissingContainers()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", null);

        store.Merge("c", ["x", "y"], JsonNode.Parse("""{"z":true}"""), clock.GetUtcNow());

        Assert.That(store.Snapshot("c")!.ToJsonString(), Is.EqualTo("""{"x":{"y":{"z":true}}}"""));
    }

    [Test]
    public void SetConfiguration_ReplacesEverything_AndReportsRemovedKeys()
    {
        var store = NewStore(out _);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":1,"b":{"c":2}}""")!.AsObject());
        var seen = new List<string>();
        using var watch = store.Watch("c", [], (_, path) => seen.Add(string.Join("/", path)));

        store.SetConfiguration("c", JsonNode.Parse("""{"a":2}""")!.AsObject());

        Assert.That(store.Snapshot("c")!.ToJsonString(), Is.EqualTo("""{"a":2}"""));
        Assert.That(seen, Is.EquivalentTo(new[] { "b", "a" }));
    }

    [Test]
    public void Watch_UnknownNode_ReturnsNull_AndDisposingStopsNotifications()
    {
        var store = NewStore(out var clock);
        store.SetConfiguration("c", JsonNode.Parse("""{"a":1}""")!.AsObject());
        Assert.That(store.Watch("c", ["nope"], (_, _) => { }), Is.Null);

        var seen = 0;
        var watch = store.Watch("c", [], (_, _) => seen++)!;
        watch.Dispose();
        store.Merge("c", [], JsonNode.Parse("""{"a":2}"""), clock.GetUtcNow().AddSeconds(1));

        Assert.That(seen, Is.Zero);
        Assert.That(store.WatcherCount, Is.Zero);
    }
}
