namespace Fogline.Gdk.Tests;

/// <summary>A GDK project folder in the temp directory, deleted on dispose.</summary>
internal sealed class TempProject : IDisposable
{
    public const string ValidConfig = """
        {
          "component": {
            "com.example.Hello": {
              "author": "Example",
              "version": "NEXT_PATCH",
              "build": { "build_system": "custom", "custom_build_command": ["make", "gg"] },
              "publish": { "bucket": "example-bucket", "region": "eu-west-1" }
            }
          },
          "gdk_version": "1.6.0"
        }
        """;

    public const string Template = """
        # A template: the comments stay.
        ---
        RecipeFormatVersion: '2020-01-25'
        ComponentName: '{COMPONENT_NAME}'
        ComponentVersion: '{COMPONENT_VERSION}'
        ComponentDescription: Says hello.
        ComponentPublisher: '{COMPONENT_AUTHOR}'
        Manifests:
          - Platform:
              os: linux
            Artifacts:
              - URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/hello.sh   # the script
                Permission:
                  Execute: OWNER
            Lifecycle:
              Run: sh {artifacts:path}/hello.sh
        """;

    public TempProject()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("fogline-gdk-").FullName;
    }

    public string Directory { get; }

    public TempProject With(string file, string content)
    {
        var path = Path.Combine(Directory, file);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
