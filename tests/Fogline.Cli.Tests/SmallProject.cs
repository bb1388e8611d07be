namespace Fogline.Cli.Tests;

/// <summary>
/// A small GDK project in a temporary folder: gdk-config.json with a custom build (<c>/bin/sh build.sh</c>), a recipe
/// template in GDK's placeholder style naming two artifacts (a script and <c>data.bin</c>, 3 MiB of random bytes), and
/// a build.sh that writes what GDK's custom-build contract asks: the recipe with name and author filled, the artifacts
/// under greengrass-build/artifacts/NAME/VERSION/ (the version as configured).
/// </summary>
internal sealed class SmallProject : IDisposable
{
    public const string Name = "com.example.Small";

    public SmallProject(string version = "NEXT_PATCH", string bucket = "small-artifacts", string region = "us-east-1", string? recipe = null, bool buildOmitsData = false)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("fogline-gdk-").FullName;
        File.WriteAllText(Path.Combine(Directory, "gdk-config.json"), $$"""
            {
              "component": {
                "{{Name}}": {
                  "author": "Example",
                  "version": "{{version}}",
                  "build": { "build_system": "custom", "custom_build_command": ["/bin/sh", "build.sh"] },
                  "publish": { "bucket": "{{bucket}}", "region": "{{region}}" }
                }
              },
              "gdk_version": "1.6.0"
            }
            """);
        File.WriteAllText(Path.Combine(Directory, "recipe.yaml"), recipe ?? DefaultRecipe);
        File.WriteAllText(Path.Combine(Directory, "hello.sh"), "#!/bin/sh\necho hello from the small component\n");
        var data = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        File.WriteAllBytes(Path.Combine(Directory, "data.bin"), data);
        File.WriteAllText(Path.Combine(Directory, "build.sh"), $$"""
            set -e
            out=greengrass-build/artifacts/{{Name}}/{{version}}
            mkdir -p "$out" greengrass-build/recipes
            sed -e 's/{COMPONENT_NAME}/{{Name}}/' -e 's/{COMPONENT_AUTHOR}/Example/' -e 's/{COMPONENT_VERSION}/NEXT_PATCH/' recipe.yaml > greengrass-build/recipes/recipe.yaml
            cp hello.sh "$out/"
            {{(buildOmitsData ? "echo leaving data.bin out" : "cp data.bin \"$out/\"")}}
            echo built
            """);
    }

    public const string DefaultRecipe = """
        RecipeFormatVersion: '2020-01-25'
        ComponentName: '{COMPONENT_NAME}'
        ComponentVersion: '{COMPONENT_VERSION}'
        ComponentDescription: A small component for the publish tests.
        ComponentPublisher: '{COMPONENT_AUTHOR}'
        Manifests:
          - Platform:
              os: linux
            Artifacts:
              - URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/hello.sh
              - URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/data.bin
            Lifecycle:
              Run: sh {artifacts:path}/hello.sh
        """;

    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
