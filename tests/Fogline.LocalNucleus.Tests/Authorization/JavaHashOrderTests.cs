using Fogline.LocalNucleus.Authorization;

namespace Fogline.LocalNucleus.Tests.Authorization;

/// <summary>
/// The Java collection orders the Nucleus's authorization depends on (see JavaHashOrder). Every expected order below
/// was printed by a JDK 17 iterating a java.util.HashSet / java.util.concurrent.ConcurrentHashMap filled the same way.
/// </summary>
public class JavaHashOrderTests
{
    [Test]
    public void StringHashCode_IsJavas()
    {
        Assert.Multiple(() =>
        {
            Assert.That(JavaHashOrder.StringHashCode(string.Empty), Is.Zero);
            Assert.That(JavaHashOrder.StringHashCode("ab"), Is.EqualTo(3105));
            Assert.That(JavaHashOrder.StringHashCode("Aa"), Is.EqualTo(JavaHashOrder.StringHashCode("BB")));
            Assert.That(JavaHashOrder.StringHashCode("aws.greengrass.ipc.pubsub"), Is.EqualTo(-2044234689));
        });
    }

    [Test]
    public void HashSet_SmallAndResized()
    {
        Assert.That(JavaHashOrder.HashSetOrder(["b", "ab", "*ab", "*b*c"]), Is.EqualTo(new[] { "ab", "b", "*b*c", "*ab" }));
        Assert.That(
            JavaHashOrder.HashSetOrder([.. Enumerable.Range(0, 20).Select(i => "topic/" + i)]),
            Is.EqualTo(new[] { "topic/8", "topic/9", "topic/0", "topic/1", "topic/2", "topic/3", "topic/4", "topic/5", "topic/6", "topic/7", "topic/10", "topic/11", "topic/12", "topic/13", "topic/14", "topic/15", "topic/16", "topic/17", "topic/18", "topic/19" }));
    }

    [Test]
    public void ConcurrentHashMap_Small()
    {
        Assert.That(JavaHashOrder.ConcurrentHashMapOrder(["b", "ab"]), Is.EqualTo(new[] { "ab", "b" }));
    }

    [Test]
    public void ConcurrentHashMap_Resized_ReversesTheHeadsOfSplitBins()
    {
        Assert.That(
            JavaHashOrder.ConcurrentHashMapOrder([.. Enumerable.Range(0, 30).Select(i => $"k{i}/")]),
            Is.EqualTo(new[] { "k9/", "k7/", "k5/", "k3/", "k1/", "k29/", "k19/", "k27/", "k17/", "k14/", "k26/", "k12/", "k24/", "k10/", "k22/", "k20/", "k8/", "k6/", "k4/", "k2/", "k0/", "k18/", "k16/", "k28/", "k25/", "k15/", "k23/", "k13/", "k21/", "k11/" }));
    }

    [Test]
    public void ConcurrentHashMap_CollidingKeys_AndLookupsDeepInABin()
    {
        string[] accesses =
        [
            "BBAaBB", "AaAaBB", "BBAaBBAa", "BBAaAa", "AaBBBB", "BBBBBBAa", "AaAaBBAa", "AaBBBBBB", "BBBBBBBB", "BBBBAaAa",
            "AaAaAaBB", "BBBBAaBB", "AaAaBBBB", "BBAaAaBB", "AaAa", "AaBBAa", "AaBBAaAa", "BBAaBBBB", "AaBBBBAa", "BBBBBB",
            "BBAaBB", "AaAaBB", "BBAaBBAa", "BBAaAa", "AaBBBB",
        ];

        Assert.That(
            JavaHashOrder.ConcurrentHashMapOrder(accesses),
            Is.EqualTo(new[] { "AaAa", "BBAaBB", "AaAaBB", "BBAaAa", "AaBBBB", "AaBBAa", "BBBBBB", "AaBBBBAa", "BBAaBBBB", "AaBBAaAa", "BBAaBBAa", "BBBBBBAa", "AaAaBBAa", "AaBBBBBB", "BBBBBBBB", "BBBBAaAa", "AaAaAaBB", "BBBBAaBB", "AaAaBBBB", "BBAaAaBB" }));
    }
}
