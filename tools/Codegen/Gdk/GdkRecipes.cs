using Fogline.Gdk;

namespace Fogline.Codegen;

/// <summary>
/// The recipes made from the GDK projects' recipe templates (components/NAME/recipe.yaml and the repository's own
/// recipe.yaml, each beside its gdk-config.json), by the one renderer (Fogline.Gdk's <see cref="RecipeTemplate"/>):
/// <list type="bullet">
/// <item><c>recipes/NAME-1.0.0.yaml</c>, what the local Nucleus, ./demo and the tests deploy (<see cref="Generate"/>);</item>
/// <item>the recipe and artifacts of a GDK custom build in <c>PROJECT/greengrass-build/</c> (<see cref="Build"/>).</item>
/// </list>
/// </summary>
internal static class GdkRecipes
{
    /// <summary>The version the repository's recipes/ are rendered at.</summary>
    public const string RecipesVersion = "1.0.0";

    /// <summary>The GDK projects of the repository: its root, then each components/ folder with a gdk-config.json.</summary>
    public static IReadOnlyList<string> Projects(string root)
    {
        var projects = new List<string>();
        if (File.Exists(Path.Combine(root, GdkConfig.FileName)))
        {
            projects.Add(root);
        }

        var components = Path.Combine(root, "components");
        if (Directory.Exists(components))
        {
            projects.AddRange(Directory.GetDirectories(components)
                .Where(d => File.Exists(Path.Combine(d, GdkConfig.FileName)))
                .Order(StringComparer.Ordinal));
        }

        return projects;
    }

    /// <summary>recipes/: file name to content, each project's template rendered at <see cref="RecipesVersion"/>.</summary>
    public static IReadOnlyDictionary<string, string> Generate(string root)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var directory in Projects(root))
        {
            var project = GdkProject.Load(directory);
            var template = RecipeTemplate.Load(project.RecipeFile);
            var source = Path.GetRelativePath(root, project.RecipeFile).Replace('\\', '/');
            var name = $"{project.Config.ComponentName}-{RecipesVersion}{Path.GetExtension(project.RecipeFile)}";
            files.Add(name, template.RenderVersion(project.Config, RecipesVersion, source));
        }

        return files;
    }

    /// <summary>Whether a file of recipes/ was rendered from a template (its first line says so).</summary>
    public static bool IsGenerated(string path)
    {
        if (!path.EndsWith(".yaml", StringComparison.Ordinal))
        {
            return false;
        }

        using var reader = new StreamReader(path);
        var first = reader.ReadLine() ?? string.Empty;
        return first.StartsWith("# Generated from ", StringComparison.Ordinal) && first.Contains("by tools/Codegen", StringComparison.Ordinal);
    }

    /// <summary>
    /// The recipe and artifact half of a GDK custom build of the project in <paramref name="projectDirectory"/>:
    /// writes <c>greengrass-build/recipes/&lt;project recipe file name&gt;</c> (the template filled for a build: see
    /// <see cref="RecipeTemplate.FillForBuild"/>), after checking it with GDK's recipe schema, and copies each artifact
    /// the recipe names (<c>s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/FILE</c>) from
    /// <paramref name="artifactsFrom"/> into <c>greengrass-build/artifacts/NAME/VERSION/</c> (the version as
    /// configured, literally NEXT_PATCH when so). Creates what is missing of greengrass-build/ and wipes nothing.
    /// Returns the files written.
    /// </summary>
    /// <exception cref="GdkException">The project, its recipe or an artifact is missing or invalid.</exception>
    public static IReadOnlyList<string> Build(string projectDirectory, string? artifactsFrom)
    {
        var project = GdkProject.Load(projectDirectory);
        var template = RecipeTemplate.Load(project.RecipeFile);
        var recipe = template.FillForBuild(project.Config);
        var problems = GdkRecipeSchema.Validate(recipe, project.RecipeFile);
        if (problems.Count > 0)
        {
            // GDK's PROJECT_RECIPE_FILE_INVALID.
            throw new GdkException(
                $"Project recipe file '{project.RecipeFile}' is invalid. Please correct its format and try again.\nFor more information regarding component recipes refer to the docs here: https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html\nError: {problems[0]} ",
                problems);
        }

        var artifacts = template.BuildArtifactFiles(project.Config);
        var sources = new List<string>();
        foreach (var file in artifacts)
        {
            var source = artifactsFrom is null ? null : Path.Combine(artifactsFrom, file);
            if (source is null || !File.Exists(source))
            {
                throw new GdkException($"The recipe names the artifact {file}, which is not in {artifactsFrom ?? "(no --artifacts-from given)"}: build it first.");
            }

            sources.Add(source);
        }

        Directory.CreateDirectory(project.BuildRecipesDirectory);
        Directory.CreateDirectory(project.ComponentArtifactsDirectory);
        File.WriteAllText(project.BuildRecipeFile, recipe);
        var written = new List<string> { project.BuildRecipeFile };
        foreach (var source in sources)
        {
            var target = Path.Combine(project.ComponentArtifactsDirectory, Path.GetFileName(source));
            File.Copy(source, target, overwrite: true);
            written.Add(target);
        }

        return written;
    }

    /// <summary><c>Codegen gdk-build PROJECT_DIR [--artifacts-from DIR]</c>.</summary>
    public static int Run(string[] args)
    {
        string? project = null;
        string? artifactsFrom = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--artifacts-from" && i + 1 < args.Length)
            {
                artifactsFrom = args[++i];
            }
            else if (project is null && !args[i].StartsWith('-'))
            {
                project = args[i];
            }
            else
            {
                project = null;
                break;
            }
        }

        if (project is null)
        {
            Console.Error.WriteLine("Usage: Codegen gdk-build PROJECT_DIR [--artifacts-from DIR]");
            return 2;
        }

        try
        {
            foreach (var file in Build(project, artifactsFrom))
            {
                Console.WriteLine($"Codegen: wrote {file}");
            }

            return 0;
        }
        catch (Exception ex) when (ex is GdkException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Codegen: {ex.Message}");
            if (ex is GdkException gdk)
            {
                foreach (var error in gdk.Errors.Skip(1))
                {
                    Console.Error.WriteLine($"Codegen:   {error}");
                }
            }

            return 1;
        }
    }
}
