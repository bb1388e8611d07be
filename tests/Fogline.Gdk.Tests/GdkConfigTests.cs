namespace Fogline.Gdk.Tests;

/// <summary>gdk-config.json read and validated as GDK does, with GDK's messages.</summary>
public class GdkConfigTests
{
    private const string Invalid = "Project configuration file 'gdk-config.json' is invalid. Please correct its format and try again. Error: ";

    [Test]
    public void AValidConfig_GivesItsValues()
    {
        var config = GdkConfig.Parse(TempProject.ValidConfig);
        Assert.Multiple(() =>
        {
            Assert.That(config.ComponentName, Is.EqualTo("com.example.Hello"));
            Assert.That(config.Author, Is.EqualTo("Example"));
            Assert.That(config.Version, Is.EqualTo("NEXT_PATCH"));
            Assert.That(config.IsNextPatch, Is.True);
            Assert.That(config.Build.BuildSystem, Is.EqualTo("custom"));
            Assert.That(config.Build.CustomBuildCommand, Is.EqualTo(new[] { "make", "gg" }));
            Assert.That(config.Publish.Bucket, Is.EqualTo("example-bucket"));
            Assert.That(config.Publish.Region, Is.EqualTo("eu-west-1"));
            Assert.That(config.Publish.Options, Is.Empty);
            Assert.That(config.GdkVersion, Is.EqualTo("1.6.0"));
        });
    }

    [Test]
    public void ACommandAsOneString_IsOneProgramPath_AndOptionalPartsHaveGdksDefaults()
    {
        var config = GdkConfig.Parse("""
            {"component": {"a": {"author": "", "version": "1.2.3", "build": {"build_system": "custom", "custom_build_command": "make build"},
              "publish": {"bucket": "b", "options": {"file_upload_args": {"ACL": "private"}}}}},
             "gdk_version": "1.0.0", "test-e2e": {"build": {"build_system": "maven"}}}
            """);
        Assert.Multiple(() =>
        {
            Assert.That(config.Build.CustomBuildCommand, Is.EqualTo(new[] { "make build" }), "GDK does not split a string command (subprocess.run without a shell)");
            Assert.That(config.Publish.Region, Is.Empty);
            Assert.That(config.Publish.Options["file_upload_args"]!["ACL"]!.GetValue<string>(), Is.EqualTo("private"));
            Assert.That(config.IsNextPatch, Is.False);
            Assert.That(config.Document.ContainsKey("test-e2e"), Is.True, "extra keys are allowed");
        });
    }

    [Test]
    public void AMissingFile_IsReportedAsGdkDoes()
    {
        using var project = new TempProject();
        var e = Assert.Throws<GdkException>(() => GdkConfig.Load(Path.Combine(project.Directory, "gdk-config.json")));
        Assert.That(e!.Message, Is.EqualTo("Config file doesn't exist. Please initialize the project using a template or a repository before using gdk commands."));
        e = Assert.Throws<GdkException>(() => GdkProject.Load(project.Directory));
        Assert.That(e!.Message, Does.StartWith("Config file doesn't exist."));
    }

    [Test]
    public void InvalidJson_IsReported()
    {
        var e = Assert.Throws<GdkException>(() => GdkConfig.Parse("{\"component\": {"));
        Assert.That(e!.Message, Does.StartWith("Project configuration file 'gdk-config.json' is not valid JSON: "));
    }

    [TestCase("""{"component": {"a": {"version": "1.0.0", "build": {"build_system": "zip"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'author' is a required property")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "1.0.0", "build": {"build_system": "custom"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'custom_build_command' is a required property")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "1.0", "build": {"build_system": "zip"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'1.0' is not valid under any of the given schemas")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "next_patch", "build": {"build_system": "zip"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'next_patch' is not valid under any of the given schemas")]
    [TestCase("""{"component": {"a": {"author": 1, "version": "1.0.0", "build": {"build_system": "cmake", "custom_build_command": []}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "1 is not of type 'string'")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "1.0.0", "build": {"build_system": "cmake"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'cmake' is not one of ['zip', 'maven', 'gradle', 'gradlew', 'custom']")]
    [TestCase("""{"component": {}, "gdk_version": "1.0.0"}""", "{} does not have enough properties")]
    [TestCase("""{"component": {"a": {}, "b": {}}, "gdk_version": "1.0.0"}""", "{'a': {}, 'b': {}} has too many properties")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "1.0.0", "build": {"build_system": "zip"}, "publish": {"bucket": "b"}}}}""",
        "'gdk_version' is a required property")]
    [TestCase("""{"component": {"a": {"author": "x", "version": "1.0.0", "build": {"build_system": "custom", "custom_build_command": ""}, "publish": {"bucket": "b"}}}, "gdk_version": "1.0.0"}""",
        "'' is too short")]
    public void ASchemaFailure_IsWordedAsGdkWordsIt(string json, string error)
    {
        var e = Assert.Throws<GdkException>(() => GdkConfig.Parse(json));
        Assert.That(e!.Message, Is.EqualTo(Invalid + error + " "), "GDK's message, with its trailing space");
        Assert.That(e.Errors, Is.Not.Empty);
    }

    [Test]
    public void EveryViolationIsListed_GdkPrintsOne()
    {
        var e = Assert.Throws<GdkException>(() => GdkConfig.Parse("""{"component": {"a": {"author": 1, "version": "x", "build": {}, "publish": {}}}, "gdk_version": "1.0.0"}"""));
        Assert.That(e!.Errors, Is.EqualTo(new[]
        {
            "component/a/author: 1 is not of type 'string'",
            "component/a/version: 'x' is not valid under any of the given schemas",
            "component/a/build: 'build_system' is a required property",
            "component/a/build: 'custom_build_command' is a required property", // build_system absent: the `if` holds vacuously (Python's jsonschema says so too)
            "component/a/publish: 'bucket' is a required property",
        }));
    }

    [Test]
    public void KeysAreCaseSensitive()
    {
        var e = Assert.Throws<GdkException>(() => GdkConfig.Parse("""{"Component": {}, "gdk_version": "1.0.0"}"""));
        Assert.That(e!.Message, Is.EqualTo(Invalid + "'component' is a required property "));
    }
}
