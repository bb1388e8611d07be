namespace Fogline.Greengrass.Recipes;

/// <summary><c>ComponentType</c>: how the Nucleus runs the component.</summary>
public enum ComponentType
{
    /// <summary><c>aws.greengrass.generic</c> (the default): lifecycle scripts.</summary>
    Generic,

    /// <summary><c>aws.greengrass.lambda</c>: a Lambda function run by the Lambda launcher.</summary>
    Lambda,

    /// <summary><c>aws.greengrass.plugin</c>: a Java plugin loaded into the Nucleus.</summary>
    Plugin,

    /// <summary><c>aws.greengrass.nucleus</c>: the Nucleus itself.</summary>
    Nucleus,
}

/// <summary><c>DependencyType</c> of a component dependency.</summary>
public enum DependencyType
{
    /// <summary><c>HARD</c> (the default): the component restarts when the dependency changes state.</summary>
    Hard,

    /// <summary><c>SOFT</c>: the dependency must be present to start, but its state changes do not restart the component.</summary>
    Soft,
}

/// <summary><c>Unarchive</c> of an artifact.</summary>
public enum Unarchive
{
    /// <summary><c>NONE</c> (the default): the artifact is used as downloaded.</summary>
    None,

    /// <summary><c>ZIP</c>: the artifact is unzipped under <c>{artifacts:decompressedPath}</c>.</summary>
    Zip,
}

/// <summary>A permission of an artifact's files: who may read or execute them.</summary>
public enum PermissionType
{
    /// <summary><c>NONE</c>: nobody.</summary>
    None,

    /// <summary><c>OWNER</c>: the user the component runs as.</summary>
    Owner,

    /// <summary><c>ALL</c>: every user.</summary>
    All,
}

/// <summary>The lifecycle steps a recipe can define.</summary>
public enum LifecycleStepKind
{
    /// <summary><c>Bootstrap</c>: runs once per deployment, before install, possibly with a Nucleus restart.</summary>
    Bootstrap,

    /// <summary><c>Install</c>.</summary>
    Install,

    /// <summary><c>Startup</c>: a background process the component reports running for.</summary>
    Startup,

    /// <summary><c>Run</c>: the component's main process.</summary>
    Run,

    /// <summary><c>Shutdown</c>.</summary>
    Shutdown,

    /// <summary><c>Recover</c>: runs when the component enters ERRORED.</summary>
    Recover,
}

/// <summary>The recipe spellings of the model's enumerations (recipes accept any case).</summary>
public static class RecipeNames
{
    /// <summary>The recipe format version this library reads.</summary>
    public const string RecipeFormatVersion2020 = "2020-01-25";

    /// <summary><c>aws.greengrass.generic</c>, …</summary>
    public static string ToRecipeString(this ComponentType type) => type switch
    {
        ComponentType.Lambda => "aws.greengrass.lambda",
        ComponentType.Plugin => "aws.greengrass.plugin",
        ComponentType.Nucleus => "aws.greengrass.nucleus",
        _ => "aws.greengrass.generic",
    };

    /// <summary><c>HARD</c> or <c>SOFT</c>.</summary>
    public static string ToRecipeString(this DependencyType type) => type == DependencyType.Soft ? "SOFT" : "HARD";

    /// <summary><c>NONE</c> or <c>ZIP</c>.</summary>
    public static string ToRecipeString(this Unarchive unarchive) => unarchive == Unarchive.Zip ? "ZIP" : "NONE";

    /// <summary><c>NONE</c>, <c>OWNER</c> or <c>ALL</c>.</summary>
    public static string ToRecipeString(this PermissionType permission) => permission switch
    {
        PermissionType.None => "NONE",
        PermissionType.All => "ALL",
        _ => "OWNER",
    };

    /// <summary><c>Bootstrap</c>, <c>Install</c>, … (the recipe key).</summary>
    public static string ToRecipeString(this LifecycleStepKind kind) => kind switch
    {
        LifecycleStepKind.Bootstrap => "Bootstrap",
        LifecycleStepKind.Install => "Install",
        LifecycleStepKind.Startup => "Startup",
        LifecycleStepKind.Run => "Run",
        LifecycleStepKind.Shutdown => "Shutdown",
        _ => "Recover",
    };
}
