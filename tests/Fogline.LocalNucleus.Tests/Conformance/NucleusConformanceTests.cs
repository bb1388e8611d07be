using System.Text;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>
/// Every operation the local Nucleus implements, exercised twice with the same scenario and the same expectations:
/// through our C# client and through the official Node.js client (npm aws-iot-device-sdk-v2), each connecting as a
/// component with its own token and policies; the IoT Core scenarios a second time with the Nucleus connected to
/// Mosquitto with mutual TLS (QoS 1 across a broker restart). Prints a table operation x client x pass.
/// </summary>
[Category("Conformance")]
[NonParallelizable]
public class NucleusConformanceTests
{
    private static readonly List<StepOutcome> Outcomes = [];

    /// <summary>Every scenario with both clients; those that name <c>brokerTopics</c> (IoT Core) also through Mosquitto.</summary>
    public static IEnumerable<TestCaseData> Cases() =>
        ScenarioRunner.Scenarios().SelectMany(s => new[] { new TestCaseData(s, "C#", false), new TestCaseData(s, "Node.js", false) }
            .Concat(ScenarioRunner.UsesBroker(s) ? [new TestCaseData(s, "C#", true), new TestCaseData(s, "Node.js", true)] : []));

    [OneTimeTearDown]
    public void PrintTable()
    {
        var table = new StringBuilder();
        table.AppendLine("| operation | C# client | Node.js client |");
        table.AppendLine("|---|---|---|");
        List<StepOutcome> outcomes;
        lock (Outcomes)
        {
            outcomes = [.. Outcomes];
        }

        foreach (var operation in outcomes.Select(o => o.Operation).Distinct().Order())
        {
            string Cell(string client)
            {
                var mine = outcomes.Where(o => o.Operation == operation && o.Client == client).ToList();
                return mine.Count == 0 ? "-"
                    : !mine.All(o => o.Passed) ? $"FAIL ({mine.Count(o => !o.Passed)}/{mine.Count})"
                    : mine.All(o => o.Scenario == "unsupported") ? "unsupported (answered as the Nucleus answers an operation it does not serve)"
                    : $"pass ({mine.Count})";
            }

            table.AppendLine($"| {operation} | {Cell("C#")} | {Cell("Node.js")} |");
        }

        TestContext.Progress.WriteLine(table.ToString());
        File.WriteAllText(Path.Combine(TestContext.CurrentContext.WorkDirectory, "nucleus-conformance.md"), table.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    [CancelAfter(120_000)]
    public async Task Scenario(string scenario, string client, bool broker)
    {
        var outcomes = await new ScenarioRunner().RunAsync(scenario, client, broker);
        lock (Outcomes)
        {
            Outcomes.AddRange(outcomes);
        }

        var failures = outcomes.Where(o => !o.Passed).Select(o => $"{o.Operation}: {o.Detail}").ToList();
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
        Assert.That(outcomes, Is.Not.Empty, "the scenario checked nothing");
    }
}
