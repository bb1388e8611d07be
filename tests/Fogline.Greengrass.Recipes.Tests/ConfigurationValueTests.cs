using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes.Text;

namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>How recipe values become JSON configuration and text, as the Nucleus (Java, Jackson) makes them.</summary>
public class ConfigurationValueTests
{
    // Java's Double.toString.
    [TestCase(1.0, "1.0")]
    [TestCase(1.5, "1.5")]
    [TestCase(100.0, "100.0")]
    [TestCase(-2.5, "-2.5")]
    [TestCase(0.0, "0.0")]
    [TestCase(0.001, "0.001")]
    [TestCase(0.0001, "1.0E-4")]
    [TestCase(9999999.0, "9999999.0")]
    [TestCase(1e7, "1.0E7")]
    [TestCase(123456789.0, "1.23456789E8")]
    [TestCase(1234567.125, "1234567.125")]
    [TestCase(1e-10, "1.0E-10")]
    [TestCase(1.0E21, "1.0E21")]
    [TestCase(0.30000000000000004, "0.30000000000000004")]
    [TestCase(double.NaN, "NaN")]
    [TestCase(double.NegativeInfinity, "-Infinity")]
    public void DoublesAreWrittenAsJavaWritesThem(double value, string expected)
    {
        Assert.That(JavaText.Double(value), Is.EqualTo(expected));
    }

    [Test]
    public void YamlScalarsBecomeTypedJsonAsTheCoreSchemaSays()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Values
            ComponentVersion: 1.0.0
            ComponentConfiguration:
              DefaultConfiguration:
                int: 42
                negative: -7
                plus: +7
                hex: 0x1F
                octal: 0o17
                float: 1.50
                exponent: 1e3
                leadingDot: .5
                quotedNumber: '42'
                yes: yes
                on: off
                true: True
                nothing: ~
                empty:
                date: 2020-01-25
                version: 1.0.0
                tagged: !!str 12
                multiline: |
                  line 1
                  line 2
            Manifests: [{}]
            """;
        var configuration = ComponentRecipe.Parse(text, "values.yaml").DefaultConfiguration;
        Assert.That(configuration.ToJsonString(), Is.EqualTo(
            """{"int":42,"negative":-7,"plus":7,"hex":31,"octal":15,"float":1.5,"exponent":1000.0,"leadingDot":0.5,"quotedNumber":"42","yes":"yes","on":"off","true":true,"nothing":null,"empty":null,"date":"2020-01-25","version":"1.0.0","tagged":"12","multiline":"line 1\nline 2\n"}"""));
        Assert.That(configuration["float"]!.GetValueKind(), Is.EqualTo(JsonValueKind.Number));
    }

    [Test]
    public void InfinityCannotBeConfiguration()
    {
        const string text = "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1.0.0\nComponentConfiguration:\n  DefaultConfiguration:\n    x: .inf\nManifests: [{}]\n";
        var e = Assert.Throws<RecipeException>(() => ComponentRecipe.Parse(text, "inf.yaml"));
        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("inf.yaml:6:8: ComponentConfiguration.DefaultConfiguration.x: .inf cannot be held in JSON configuration; quote it to make it a string"));
    }

    [Test]
    public void SetenvValuesBecomeTextAsTheNucleusMakesIt()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Env
            ComponentVersion: 1.0.0
            Manifests:
              - Lifecycle:
                  Setenv:
                    INT: 8
                    FLOAT: 1.50
                    BOOL: true
                    STRING: "x y"
                    EMPTY: ''
                  Run: env
            """;
        var setenv = ComponentRecipe.Parse(text, "env.yaml").Manifests[0].Lifecycle!.Setenv;
        Assert.That(setenv, Is.EqualTo(new Dictionary<string, string>
        {
            ["INT"] = "8",
            ["FLOAT"] = "1.5",
            ["BOOL"] = "true",
            ["STRING"] = "x y",
            ["EMPTY"] = string.Empty,
        }));
    }

    [Test]
    public void JsonNumbersKeepTheTextTheNucleusGivesThem()
    {
        const string text = """{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a", "ComponentVersion": "1.0.0", "Manifests": [{}], "ComponentConfiguration": {"DefaultConfiguration": {"a": 1.50, "b": 1e2, "c": 12345678901234567890123, "d": -0.0}}}""";
        var configuration = ComponentRecipe.Parse(text, "n.json").DefaultConfiguration;
        Assert.That(configuration.ToJsonString(), Is.EqualTo("""{"a":1.5,"b":100.0,"c":12345678901234567890123,"d":-0.0}"""));
        var interpolator = new RecipeInterpolator(new InterpolationContext
        {
            ComponentName = "a",
            RootPath = "/r",
            Components = new Dictionary<string, ComponentVariables> { ["a"] = new(ComponentPaths.ForNucleusRoot("/r", "a", "1.0.0"), configuration) },
        });
        Assert.That(interpolator.Interpolate("{configuration:/a} {configuration:/b} {configuration:/c}"), Is.EqualTo("1.5 100.0 12345678901234567890123"));
    }

    [Test]
    public void AnchorsAndAliasesAreResolved()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Anchors
            ComponentVersion: 1.0.0
            Manifests:
              - Platform: { os: linux }
                Lifecycle: &common
                  Run: ./run.sh
              - Platform: { os: darwin }
                Lifecycle: *common
            """;
        var recipe = ComponentRecipe.Parse(text, "anchors.yaml");
        Assert.That(recipe.Manifests[1].EffectiveLifecycle.Run!.Script, Is.EqualTo("./run.sh"));
    }
}
