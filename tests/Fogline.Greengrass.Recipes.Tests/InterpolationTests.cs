using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>Recipe variables, interpolated as the Nucleus's KernelConfigResolver does.</summary>
public class InterpolationTests
{
    private const string Root = "/greengrass/v2";
    private const string App = "com.example.App";
    private const string Dep = "com.example.Dep";

    private static readonly JsonObject AppConfiguration = JsonNode.Parse("""
        {
          "name": "world", "count": 3, "ratio": 1.5, "big": 1e10, "small": 0.0001, "flag": true, "nothing": null,
          "list": ["a", 1, true], "obj": {"b": 2, "a": "x", "c": {"z": 1, "y": [1.0, "q\"uote\n"]}}, "empty": {},
          "a/b": "slash", "m~n": "tilde", "": "empty key",
          "placeholder": "{work:path}", "crossref": "{com.example.Dep:work:path}", "quote": "say \"hi\"\n", "unicode": "é€"
        }
        """)!.AsObject();

    private static readonly JsonObject DepConfiguration = JsonNode.Parse("""{"port": 8883, "host": "broker.local"}""")!.AsObject();

    private static InterpolationContext Context(string? thingName = "MyThing") => new()
    {
        ComponentName = App,
        RootPath = Root,
        ThingName = thingName,
        DirectDependencies = new HashSet<string> { Dep, "com.example.Missing" },
        Components = new Dictionary<string, ComponentVariables>
        {
            [App] = new(ComponentPaths.ForNucleusRoot(Root, App, "1.0.0"), AppConfiguration),
            [Dep] = new(ComponentPaths.ForNucleusRoot(Root, Dep, "2.1.0"), DepConfiguration),
            ["com.example.Other"] = new(ComponentPaths.ForNucleusRoot(Root, "com.example.Other", "1.0.0"), DepConfiguration),
        },
    };

    [TestCase("{artifacts:path}", "/greengrass/v2/packages/artifacts/com.example.App/1.0.0")]
    [TestCase("{artifacts:decompressedPath}", "/greengrass/v2/packages/artifacts-unarchived/com.example.App/1.0.0")]
    [TestCase("{work:path}", "/greengrass/v2/work/com.example.App")]
    [TestCase("{kernel:rootPath}", "/greengrass/v2")]
    [TestCase("{iot:thingName}", "MyThing")]
    [TestCase("python3 {artifacts:path}/app.py --name {configuration:/name}", "python3 /greengrass/v2/packages/artifacts/com.example.App/1.0.0/app.py --name world")]
    [TestCase("{configuration:/name}", "world")]
    [TestCase("{configuration:/count}", "3")]
    [TestCase("{configuration:/ratio}", "1.5")]
    [TestCase("{configuration:/big}", "1.0E10")]
    [TestCase("{configuration:/small}", "1.0E-4")]
    [TestCase("{configuration:/flag}", "true")]
    [TestCase("{configuration:/nothing}", "null")]
    [TestCase("{configuration:/quote}", "say \"hi\"\n")]
    [TestCase("{configuration:/unicode}", "é€")]
    [TestCase("{configuration:/list}", "[\"a\",1,true]")]
    [TestCase("{configuration:/list/0}", "a")]
    [TestCase("{configuration:/list/2}", "true")]
    [TestCase("{configuration:/obj}", "{\"a\":\"x\",\"b\":2,\"c\":{\"y\":[1.0,\"q\\\"uote\\n\"],\"z\":1}}")]
    [TestCase("{configuration:/obj/c/y/0}", "1.0")]
    [TestCase("{configuration:/empty}", "{}")]
    [TestCase("{configuration:/a~1b}", "slash")]
    [TestCase("{configuration:/m~0n}", "tilde")]
    [TestCase("{configuration:/}", "empty key")]
    [TestCase("{work:path}/a:{work:path}/b", "/greengrass/v2/work/com.example.App/a:/greengrass/v2/work/com.example.App/b")]
    [TestCase("{com.example.Dep:configuration:/port}", "8883")]
    [TestCase("mqtt://{com.example.Dep:configuration:/host}:{com.example.Dep:configuration:/port}", "mqtt://broker.local:8883")]
    [TestCase("{com.example.Dep:artifacts:path}", "/greengrass/v2/packages/artifacts/com.example.Dep/2.1.0")]
    [TestCase("{com.example.Dep:artifacts:decompressedPath}", "/greengrass/v2/packages/artifacts-unarchived/com.example.Dep/2.1.0")]
    [TestCase("{com.example.Dep:work:path}", "/greengrass/v2/work/com.example.Dep")]
    [TestCase("{com.example.Dep:kernel:rootPath}", "/greengrass/v2")]
    [TestCase("{com.example.Dep:iot:thingName}", "MyThing")]
    public void ReplacesKnownVariables(string value, string expected)
    {
        Assert.That(new RecipeInterpolator(Context()).Interpolate(value), Is.EqualTo(expected));
    }

    // What the Nucleus leaves as written.
    [TestCase("{configuration:/missing}")]
    [TestCase("{configuration:/name/deeper}")]
    [TestCase("{configuration:/list/3}")]
    [TestCase("{configuration:/list/01}")]
    [TestCase("{configuration:/list/-1}")]
    [TestCase("{unknown:thing}")]
    [TestCase("{Artifacts:path}")]
    [TestCase("{artifacts:Path}")]
    [TestCase("{artifacts:unknownKey}")]
    [TestCase("{kernel:thingName}")]
    [TestCase("{com.example.Other:configuration:/port}")]
    [TestCase("{com.example.Other:work:path}")]
    [TestCase("{com.example.Missing:work:path}")]
    [TestCase("{com.example.Dep:configuration:/missing}")]
    [TestCase("{com.example.Dep:unknown:x}")]
    [TestCase("{com.example.Dep:a:b:c}")]
    [TestCase("{ work:path }")]
    [TestCase("{work path}")]
    [TestCase("$HOME {not a variable} {}")]
    public void LeavesUnresolvableVariablesAsWritten(string value)
    {
        Assert.That(new RecipeInterpolator(Context()).Interpolate(value), Is.EqualTo(value));
    }

    [Test]
    public void UnknownThingNameStaysAsWritten()
    {
        Assert.That(new RecipeInterpolator(Context(thingName: null)).Interpolate("{iot:thingName}/x"), Is.EqualTo("{iot:thingName}/x"));
    }

    [Test]
    public void FollowsTheNucleusOrderOfReplacement()
    {
        var interpolator = new RecipeInterpolator(Context());
        Assert.Multiple(() =>
        {
            // A value that contains a same-component variable is inserted as it is...
            Assert.That(interpolator.Interpolate("{configuration:/placeholder}"), Is.EqualTo("{work:path}"));

            // ...unless the same variable appears later in the original text: each placeholder's text is replaced everywhere.
            Assert.That(interpolator.Interpolate("{configuration:/placeholder} {work:path}"),
                Is.EqualTo("/greengrass/v2/work/com.example.App /greengrass/v2/work/com.example.App"));

            // Cross-component variables are replaced after the same-component ones, in the result.
            Assert.That(interpolator.Interpolate("{configuration:/crossref}"), Is.EqualTo("/greengrass/v2/work/com.example.Dep"));
        });
    }

    [Test]
    public void ThePointerOfTheWholeConfigurationGivesSortedCompactJson()
    {
        var json = new RecipeInterpolator(Context()).Interpolate("{configuration:}");
        var keys = JsonNode.Parse(json)!.AsObject().Select(p => p.Key).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(keys, Is.EqualTo(keys.OrderBy(k => k, StringComparer.Ordinal).ToArray()));
            Assert.That(json, Does.StartWith("{\"\":\"empty key\",\"a/b\":\"slash\",\"big\":1.0E10,"));
            Assert.That(json, Does.Contain("\"unicode\":\"é€\""));
            Assert.That(json, Does.Contain("\"list\":[\"a\",1,true],"));
        });
    }

    [Test]
    public void APointerWithoutLeadingSlashFailsAsInTheNucleus()
    {
        var e = Assert.Throws<RecipeInterpolationException>(() => new RecipeInterpolator(Context()).Interpolate("{configuration:name}"));
        Assert.That(e!.Message, Does.Contain("'name' is not a JSON pointer"));
    }

    [Test]
    public void ConfigurationInterpolationReplacesSystemParametersOnly()
    {
        var interpolator = new RecipeInterpolator(Context());
        var configuration = JsonNode.Parse("""
            {"dir": "{work:path}/data", "self": "{configuration:/name}", "dep": "{com.example.Dep:configuration:/port}",
             "depWork": "{com.example.Dep:work:path}", "n": 1.0, "list": ["{kernel:rootPath}", 2], "{work:path}": "key untouched"}
            """);
        var result = interpolator.InterpolateConfiguration(configuration)!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(result["dir"]!.GetValue<string>(), Is.EqualTo("/greengrass/v2/work/com.example.App/data"));
            Assert.That(result["self"]!.GetValue<string>(), Is.EqualTo("{configuration:/name}"));
            Assert.That(result["dep"]!.GetValue<string>(), Is.EqualTo("{com.example.Dep:configuration:/port}"));
            Assert.That(result["depWork"]!.GetValue<string>(), Is.EqualTo("/greengrass/v2/work/com.example.Dep"));
            Assert.That(result["n"]!.ToJsonString(), Is.EqualTo("1.0"));
            Assert.That(result["list"]![0]!.GetValue<string>(), Is.EqualTo("/greengrass/v2"));
            Assert.That(result["{work:path}"]!.GetValue<string>(), Is.EqualTo("key untouched"));
            Assert.That(configuration!["dir"]!.GetValue<string>(), Is.EqualTo("{work:path}/data"), "the input is not changed");
            Assert.That(interpolator.InterpolateSystemParameters("{configuration:/name} {iot:thingName}"), Is.EqualTo("{configuration:/name} MyThing"));
        });
    }

    [Test]
    public void InterpolatesEveryValueOfALifecycle()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("SensorPublisher.yaml"));
        var lifecycle = recipe.ResolveFor(new DevicePlatform("linux", "aarch64")).Lifecycle;
        var context = new InterpolationContext
        {
            ComponentName = recipe.ComponentName,
            RootPath = Root,
            DirectDependencies = recipe.ComponentDependencies.Select(d => d.Name).ToHashSet(),
            Components = new Dictionary<string, ComponentVariables>
            {
                [recipe.ComponentName] = new(ComponentPaths.ForNucleusRoot(Root, recipe.ComponentName, "2.3.1"), recipe.DefaultConfiguration),
                ["com.example.SerialBridge"] = new(ComponentPaths.ForNucleusRoot(Root, "com.example.SerialBridge", "1.4.0"), null),
            },
        };
        var result = new RecipeInterpolator(context).Interpolate(lifecycle);
        const string work = "/greengrass/v2/work/com.example.SensorPublisher";
        const string unpacked = "/greengrass/v2/packages/artifacts-unarchived/com.example.SensorPublisher/2.3.1";
        Assert.Multiple(() =>
        {
            Assert.That(result.Setenv["SENSOR_DEVICE"], Is.EqualTo("/dev/ttyUSB0"));
            Assert.That(result.Setenv["PYTHONUNBUFFERED"], Is.EqualTo("1"));
            Assert.That(result.Install!.Script, Is.EqualTo($"python3 -m venv {work}/venv && {work}/venv/bin/pip install -r {unpacked}/sensor/requirements.txt"));
            Assert.That(result.Install.Skipif, Is.EqualTo(new SkipIf(SkipIfCheck.Exists, $"{work}/venv/bin/python")));
            Assert.That(result.Install.Timeout, Is.EqualTo(600));
            Assert.That(result.Run!.Script, Is.EqualTo(
                $"{work}/venv/bin/python {unpacked}/sensor/publish.py --topic \"factory/line1/temperature\" --sampling '{{\"PeriodMilliseconds\":500,\"Smoothing\":0.25}}'"));
            Assert.That(result.Run.Setenv["BRIDGE_SOCKET"], Is.EqualTo("/greengrass/v2/work/com.example.SerialBridge/bridge.sock"));
            Assert.That(result.Bootstrap, Is.EqualTo(lifecycle.Bootstrap), "nothing to interpolate");
            Assert.That(result.Recover!.Skipif, Is.EqualTo(new SkipIf(SkipIfCheck.OnPath, "logger", Negated: true)));
        });
    }

    [Test]
    public void ATimeoutWrittenAsAVariableBecomesANumber()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("Complete.yaml"));
        var run = recipe.Manifests[0].Lifecycle!.Run!;
        var context = new InterpolationContext
        {
            ComponentName = recipe.ComponentName,
            RootPath = Root,
            Components = new Dictionary<string, ComponentVariables>
            {
                [recipe.ComponentName] = new(ComponentPaths.ForNucleusRoot(Root, recipe.ComponentName, "1.2.3"), recipe.DefaultConfiguration),
            },
        };
        var interpolated = new RecipeInterpolator(context).Interpolate(run);
        Assert.Multiple(() =>
        {
            Assert.That(interpolated.Timeout, Is.EqualTo(42));
            Assert.That(interpolated.TimeoutExpression, Is.Null);
            Assert.That(interpolated.Script, Is.EqualTo("echo run complete"));
        });

        var broken = context.Components[recipe.ComponentName] with { Configuration = JsonNode.Parse("""{"Count": "soon"}""")!.AsObject() };
        var brokenContext = new InterpolationContext
        {
            ComponentName = recipe.ComponentName,
            RootPath = Root,
            Components = new Dictionary<string, ComponentVariables> { [recipe.ComponentName] = broken },
        };
        var e = Assert.Throws<RecipeInterpolationException>(() => new RecipeInterpolator(brokenContext).Interpolate(run));
        Assert.That(e!.Message, Does.EndWith("Timeout '{configuration:/Count}' interpolates to 'soon', which is not a number of seconds"));
    }

    [Test]
    public void NucleusLayoutOfComponentPaths()
    {
        var paths = ComponentPaths.ForNucleusRoot("/var/lib/gg/../gg", "a.b", "1.0.0");
        Assert.That(paths, Is.EqualTo(new ComponentPaths("/var/lib/gg/packages/artifacts/a.b/1.0.0", "/var/lib/gg/packages/artifacts-unarchived/a.b/1.0.0", "/var/lib/gg/work/a.b")));
    }
}
