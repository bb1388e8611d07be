using Fogline.Anomaly.Shadow;

namespace Fogline.Anomaly.Tests;

/// <summary>The shadow-trial decisions file: what is recorded is what is read back after a restart, and a damaged file is reported with its path.</summary>
public class ModelDecisionsFileTests
{
    private string _directory = null!;

    private string FilePath => Path.Combine(_directory, ModelDecisions.FileName);

    [SetUp]
    public void CreateDirectory() => _directory = Path.Combine(Path.GetTempPath(), "model-decisions-" + Guid.NewGuid().ToString("N"), "work");

    [TearDown]
    public void DeleteDirectory()
    {
        var parent = Path.GetDirectoryName(_directory)!;
        if (Directory.Exists(parent))
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Test]
    public void Decisions_RoundTripThroughTheFile()
    {
        var decisions = ModelDecisions.Load(_directory);
        Assert.That(decisions.All, Is.Empty, "no file, no decisions");
        Assert.That(Directory.Exists(_directory), Is.False, "loading creates nothing");

        var promoted = new ModelDecision(new string('a', 64), "knn-novelty-v2", "promoted", new DateTimeOffset(2025, 3, 1, 12, 30, 15, 250, TimeSpan.FromHours(2)), "Pass after 10000 readings: agreement 99.90 %, p99 41.0 µs");
        var discarded = new ModelDecision(new string('b', 64), "noisy", "discarded", new DateTimeOffset(2025, 3, 2, 8, 0, 0, TimeSpan.Zero), "Fail: alert rate 30.000 % > 1.000 % allowed; \"quoted\"\nsecond line");
        var reported = new ModelDecision(new string('c', 64), "slow", "reported", new DateTimeOffset(2025, 3, 3, 8, 0, 0, TimeSpan.Zero), "Fail: too slow");
        decisions.Record(promoted);
        decisions.Record(discarded);
        decisions.Record(reported);
        Assert.That(File.Exists(FilePath), Is.True, "the folder and file are created on the first decision");
        Assert.That(Directory.GetFiles(_directory), Is.EqualTo(new[] { FilePath }), "no temporary file is left behind");

        var again = ModelDecisions.Load(_directory);
        Assert.That(again.All, Has.Count.EqualTo(3));
        Assert.That(again.Find(promoted.Sha256), Is.EqualTo(promoted));
        Assert.That(again.Find(promoted.Sha256)!.At.Offset, Is.EqualTo(TimeSpan.FromHours(2)), "the time keeps its offset");
        Assert.That(again.Find(discarded.Sha256), Is.EqualTo(discarded));
        Assert.That(again.Find(reported.Sha256), Is.EqualTo(reported));
        Assert.That(again.Find(new string('d', 64)), Is.Null);
    }

    [Test]
    public void ALaterDecisionAboutTheSameFile_ReplacesTheEarlierOne()
    {
        var decisions = ModelDecisions.Load(_directory);
        var sha = new string('e', 64);
        decisions.Record(new ModelDecision(sha, "v2", "reported", DateTimeOffset.UnixEpoch.AddDays(20_000), "report only"));
        var later = new ModelDecision(sha, "v2-renamed", "promoted", DateTimeOffset.UnixEpoch.AddDays(20_001), "Pass");
        ModelDecisions.Load(_directory).Record(later);

        var again = ModelDecisions.Load(_directory);
        Assert.That(again.All, Is.EqualTo(new[] { later }));
    }

    [TestCase("{\"decisions\": [{\"sha256\": 1}", TestName = "A truncated file is damaged")]
    [TestCase("", TestName = "An empty file is damaged")]
    [TestCase("[]", TestName = "A file that is not an object is damaged")]
    [TestCase("{}", TestName = "A file without decisions is damaged")]
    [TestCase("{\"decisions\": null}", TestName = "A file with null decisions is damaged")]
    [TestCase("{\"decisions\": [1]}", TestName = "A decision that is not an object is damaged")]
    [TestCase("{\"decisions\": [{\"sha256\": \"a\", \"model\": \"m\", \"decision\": \"promoted\", \"summary\": \"s\"}]}", TestName = "A decision without its time is damaged")]
    [TestCase("{\"decisions\": [{\"sha256\": \"a\", \"model\": \"m\", \"decision\": \"promoted\", \"at\": \"yesterday\", \"summary\": \"s\"}]}", TestName = "A decision with a time that is not one is damaged")]
    [TestCase("{\"decisions\": [{\"sha256\": null, \"model\": \"m\", \"decision\": \"d\", \"at\": \"2020-01-01T00:00:00Z\", \"summary\": \"s\"}]}", TestName = "A decision with a null hash is damaged")]
    [TestCase("{\"decisions\": [], \"promoted\": {\"configuredModel\": \"a.onnx\"}}", TestName = "A promoted model without its path is damaged")]
    [TestCase("{\"decisions\": [{\"sha256\": 7, \"model\": \"m\", \"decision\": \"promoted\", \"at\": \"2025-01-01T00:00:00Z\", \"summary\": \"s\"}]}", TestName = "A decision with a number for its hash is damaged")]
    public void ADamagedFile_IsReported_NamingTheFile(string content)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(FilePath, content);
        var error = Assert.Throws<InvalidDataException>(() => ModelDecisions.Load(_directory))!;
        Assert.That(error.Message, Does.StartWith(FilePath).And.Contain("damaged"));
        Assert.That(File.ReadAllText(FilePath), Is.EqualTo(content), "the damaged file is left as it was");
    }

    [Test]
    public void ThePromotedModel_IsKept_UntilCleared_AndTheDecisionsStay()
    {
        var decisions = ModelDecisions.Load(_directory);
        var decision = new ModelDecision(new string('a', 64), "v2", "promoted", DateTimeOffset.UnixEpoch.AddDays(20000), "Pass after 10 readings");
        decisions.Record(decision, new PromotedModel("v1.onnx", "/models/v2.onnx"));
        var again = ModelDecisions.Load(_directory);
        Assert.That(again.Find(decision.Sha256), Is.EqualTo(decision));
        Assert.That(again.Promoted, Is.EqualTo(new PromotedModel("v1.onnx", "/models/v2.onnx")));
        again.ClearPromoted();
        Assert.That(ModelDecisions.Load(_directory).Promoted, Is.Null);
        Assert.That(ModelDecisions.Load(_directory).Find(decision.Sha256), Is.EqualTo(decision), "the decision stays");
    }
}
