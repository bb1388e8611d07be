using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Greengrass.Recipes.Text;

namespace Fogline.Greengrass.Recipes.Reading;

/// <summary>
/// Builds a <see cref="ComponentRecipe"/> from recipe nodes, collecting every error with its place. Keys of the
/// recipe's own structure are case-insensitive and normalised to their canonical names, as the Nucleus (Jackson with
/// case-insensitive properties and enums, a case-insensitive configuration store for lifecycles) accepts them.
/// Keys that are data (platform attributes, selection keys, Setenv names, dependency names, DefaultConfiguration)
/// keep their case.
/// </summary>
internal sealed partial class RecipeReader
{
    private static readonly string[] TopKeys =
    [
        "RecipeFormatVersion", "ComponentName", "ComponentVersion", "ComponentDescription", "ComponentPublisher",
        "ComponentType", "ComponentSource", "ComponentConfiguration", "ComponentDependencies", "Manifests", "Lifecycle",
    ];

    private static readonly string[] ManifestKeys = ["Platform", "Name", "Lifecycle", "Artifacts", "Selections"];
    private static readonly string[] LifecycleKeys = ["Setenv", "Bootstrap", "Install", "Startup", "Run", "Shutdown", "Recover"];
    private static readonly string[] StepKeys = ["Script", "Timeout", "Setenv", "Skipif", "RequiresPrivilege"];
    private static readonly string[] ArtifactKeys = ["URI", "Digest", "Algorithm", "Unarchive", "Permission"];
    private static readonly string[] PermissionKeys = ["Read", "Execute"];
    private static readonly string[] DependencyKeys = ["VersionRequirement", "DependencyType"];
    private static readonly string[] ConfigurationKeys = ["DefaultConfiguration"];

    private static readonly string[] CoerceTrue = ["true", "yes", "on", "t", "y", "Y"];
    private static readonly string[] CoerceFalse = ["false", "no", "off", "f", "n", "N"];

    private readonly string _file;
    private readonly List<RecipeError> _errors;
    private readonly HashSet<string> _dependencyNames = new(StringComparer.Ordinal);
    private readonly HashSet<RecipeError> _variableErrors = [];
    private string? _componentName;

    private RecipeReader(string file, List<RecipeError> errors)
    {
        _file = file;
        _errors = errors;
    }

    public static ComponentRecipe Read(string? text, byte[]? utf8, string file, RecipeFormat format)
    {
        var errors = new List<RecipeError>();
        var root = format == RecipeFormat.Json
            ? JsonDocumentReader.Read(utf8 ?? [], file, errors)
            : YamlDocumentReader.Read(text ?? string.Empty, file, errors);
        ComponentRecipe? recipe = null;
        if (root is not null)
        {
            recipe = new RecipeReader(file, errors).ReadRecipe(root);
        }

        if (errors.Count > 0 || recipe is null)
        {
            throw new RecipeException(errors
                .DistinctBy(e => (e.Line, e.Column, e.Message))
                .OrderBy(e => e.Line)
                .ThenBy(e => e.Column)
                .ToArray());
        }

        return recipe;
    }

    private ComponentRecipe? ReadRecipe(RecipeNode root)
    {
        if (root is not RecipeMapping map)
        {
            Error(root.Location, $"a recipe is a mapping (RecipeFormatVersion, ComponentName, ComponentVersion, Manifests, …), not {root.Describe()}");
            return null;
        }

        var keys = Keys(map, string.Empty, TopKeys, TopLevelHint);

        var formatVersion = RequiredString(keys, "RecipeFormatVersion", map, string.Empty);
        if (formatVersion is not null && formatVersion.Value != RecipeNames.RecipeFormatVersion2020)
        {
            Error(formatVersion.Node, $"RecipeFormatVersion: '{formatVersion.Value}' is not a recipe format version; the only one is {RecipeNames.RecipeFormatVersion2020}");
        }

        var name = RequiredString(keys, "ComponentName", map, string.Empty);
        if (name is not null)
        {
            CheckComponentName(name.Value, name.Node, "ComponentName");
            _componentName = name.Value;
        }

        // A number (ComponentVersion: 1.0) is read as its text, as Jackson does, so that the error says what is
        // wrong with it as a version.
        var versionText = keys.TryGetValue("ComponentVersion", out var versionEntry)
            && versionEntry.Value is RecipeScalar { Type: RecipeScalarType.Integer or RecipeScalarType.Float } number
            ? new StringValue(number.Value, number)
            : RequiredString(keys, "ComponentVersion", map, string.Empty);
        SemVersion? version = null;
        if (versionText is not null)
        {
            version = ReadComponentVersion(versionText);
        }

        var description = OptionalString(keys, "ComponentDescription", string.Empty);
        var publisher = OptionalString(keys, "ComponentPublisher", string.Empty);

        var componentType = ComponentType.Generic;
        if (OptionalString(keys, "ComponentType", string.Empty) is { } typeText)
        {
            componentType = Enumeration(typeText, "ComponentType", Enum.GetValues<ComponentType>(), t => t.ToRecipeString());
        }

        var source = OptionalString(keys, "ComponentSource", string.Empty);
        if (source is not null && !LambdaArnPattern().IsMatch(source.Value))
        {
            Error(source.Node, $"ComponentSource: '{source.Value}' is not a Lambda function ARN (arn:aws:lambda:…)");
        }

        ComponentConfiguration? configuration = null;
        if (keys.TryGetValue("ComponentConfiguration", out var configurationEntry) && !IsNull(configurationEntry.Value))
        {
            configuration = ReadConfiguration(configurationEntry.Value);
        }

        IReadOnlyList<ComponentDependency> dependencies = [];
        if (keys.TryGetValue("ComponentDependencies", out var dependenciesEntry) && !IsNull(dependenciesEntry.Value))
        {
            dependencies = ReadDependencies(dependenciesEntry.Value);
        }

        List<PlatformManifest> manifests = [];
        if (keys.TryGetValue("Manifests", out var manifestsEntry) && !IsNull(manifestsEntry.Value))
        {
            manifests = ReadManifests(manifestsEntry.Value);
        }
        else
        {
            Error(manifestsEntry?.Key.Location ?? map.Location, "Manifests is required: a recipe needs at least one manifest (one without Platform matches every device)");
        }

        RecipeMapping? globalLifecycle = null;
        if (keys.TryGetValue("Lifecycle", out var lifecycleEntry) && !IsNull(lifecycleEntry.Value))
        {
            if (lifecycleEntry.Value is RecipeMapping lifecycleMap)
            {
                globalLifecycle = lifecycleMap;
            }
            else
            {
                WrongType(lifecycleEntry.Value, "Lifecycle", "a mapping");
            }
        }

        ApplyGlobalLifecycle(manifests, globalLifecycle);

        if (name is null || version is null)
        {
            return null;
        }

        return new ComponentRecipe
        {
            File = _file,
            RecipeFormatVersion = formatVersion?.Value ?? RecipeNames.RecipeFormatVersion2020,
            ComponentName = name.Value,
            ComponentVersion = version,
            ComponentDescription = description?.Value,
            ComponentPublisher = publisher?.Value,
            ComponentType = componentType,
            ComponentSource = source?.Value,
            ComponentConfiguration = configuration,
            ComponentDependencies = dependencies,
            Manifests = manifests,
            Lifecycle = globalLifecycle,
            Location = map.Location,
        };
    }

    private SemVersion? ReadComponentVersion(StringValue versionText)
    {
        try
        {
            var version = SemVersion.Parse(versionText.Value);
            if (versionText.Value.Length > 64)
            {
                Error(versionText.Node, $"ComponentVersion: '{versionText.Value}' is longer than 64 characters, the most Greengrass allows");
            }
            else if (version.Major > 999999 || version.Minor > 999999 || version.Patch > 999999)
            {
                Error(versionText.Node, $"ComponentVersion: '{versionText.Value}': Greengrass allows at most 999999 for major, minor and patch");
            }

            return version;
        }
        catch (VersionFormatException e)
        {
            Error(versionText.Node.LocationOf(e.Position), $"ComponentVersion: '{versionText.Value}' is not a valid version (MAJOR.MINOR.PATCH as in semver.org): {e.Reason}");
            return null;
        }
    }

    private void CheckComponentName(string name, RecipeScalar node, string what)
    {
        if (name.Length == 0)
        {
            Error(node, $"{what}: a component name cannot be empty");
        }
        else if (name.Length > 128)
        {
            Error(node, $"{what}: '{name}' is longer than 128 characters, the most Greengrass allows");
        }
        else if (!ComponentNamePattern().IsMatch(name))
        {
            var bad = name.First(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
            Error(node.LocationOf(name.IndexOf(bad, StringComparison.Ordinal)), $"{what}: '{name}' contains '{bad}'; a component name has only letters, digits, '-', '_' and '.'");
        }
    }

    private ComponentConfiguration? ReadConfiguration(RecipeNode node)
    {
        if (node is not RecipeMapping map)
        {
            WrongType(node, "ComponentConfiguration", "a mapping with DefaultConfiguration");
            return null;
        }

        var keys = Keys(map, "ComponentConfiguration", ConfigurationKeys, null);
        var defaults = new JsonObject();
        if (keys.TryGetValue("DefaultConfiguration", out var entry) && !IsNull(entry.Value))
        {
            if (entry.Value is RecipeMapping defaultsMap)
            {
                defaults = (JsonObject)ToJson(defaultsMap, "ComponentConfiguration.DefaultConfiguration")!;
                CheckPolicyIds(defaultsMap);
            }
            else
            {
                WrongType(entry.Value, "ComponentConfiguration.DefaultConfiguration", "a mapping");
            }
        }

        return new ComponentConfiguration { DefaultConfiguration = defaults, Location = map.Location };
    }

    private JsonNode? ToJson(RecipeNode node, string path) =>
        RecipeNodeJson.ToJson(node, path, (scalar, at) => Error(scalar, $"{at}: {scalar.Value} cannot be held in JSON configuration; quote it to make it a string"));

    private List<ComponentDependency> ReadDependencies(RecipeNode node)
    {
        var result = new List<ComponentDependency>();
        if (node is not RecipeMapping map)
        {
            WrongType(node, "ComponentDependencies", "a mapping of component names to VersionRequirement and DependencyType");
            return result;
        }

        foreach (var entry in map.Entries)
        {
            var name = entry.Key.Value;
            var path = "ComponentDependencies." + name;
            CheckComponentName(name, entry.Key, "ComponentDependencies");
            _dependencyNames.Add(name);
            if (name == _componentName)
            {
                Error(entry.Key, $"{path}: a component cannot depend on itself");
            }
            if (entry.Value is not RecipeMapping dependency)
            {
                if (IsNull(entry.Value))
                {
                    Error(entry.Key, $"{path}: VersionRequirement is required");
                }
                else
                {
                    WrongType(entry.Value, path, "a mapping with VersionRequirement and DependencyType");
                }

                continue;
            }

            var keys = Keys(dependency, path, DependencyKeys, null);
            var requirementText = RequiredString(keys, "VersionRequirement", dependency, path);
            VersionRange? requirement = null;
            if (requirementText is not null)
            {
                try
                {
                    requirement = VersionRange.Parse(requirementText.Value);
                }
                catch (VersionFormatException e)
                {
                    Error(requirementText.Node.LocationOf(e.Position), $"{path}.VersionRequirement: '{requirementText.Value}' is not a valid version range (npm style, e.g. ^1.2.0 or >=1.0.0 <2.0.0): {e.Reason}");
                }
            }

            var type = DependencyType.Hard;
            if (OptionalString(keys, "DependencyType", path) is { } typeText)
            {
                type = Enumeration(typeText, path + ".DependencyType", Enum.GetValues<DependencyType>(), t => t.ToRecipeString());
            }

            if (requirement is not null)
            {
                result.Add(new ComponentDependency { Name = name, VersionRequirement = requirement, DependencyType = type, Location = entry.Key.Location });
            }
        }

        return result;
    }

    private List<PlatformManifest> ReadManifests(RecipeNode node)
    {
        var result = new List<PlatformManifest>();
        if (node is not RecipeSequence sequence)
        {
            WrongType(node, "Manifests", "a list of manifests");
            return result;
        }

        if (sequence.Items.Count == 0)
        {
            Error(node.Location, "Manifests: the list is empty; a recipe needs at least one manifest (one without Platform matches every device)");
        }

        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"Manifests[{i}]");
            if (sequence.Items[i] is RecipeMapping map)
            {
                result.Add(ReadManifest(map, i, path));
            }
            else
            {
                WrongType(sequence.Items[i], path, "a mapping (Platform, Lifecycle, Artifacts, …)");
            }
        }

        return result;
    }

    private PlatformManifest ReadManifest(RecipeMapping map, int index, string path)
    {
        var keys = Keys(map, path, ManifestKeys, ManifestHint);
        List<KeyValuePair<string, string>>? platform = null;
        if (keys.TryGetValue("Platform", out var platformEntry) && !IsNull(platformEntry.Value))
        {
            platform = ReadPlatform(platformEntry.Value, path + ".Platform");
        }

        var name = OptionalString(keys, "Name", path)?.Value;

        Lifecycle? lifecycle = null;
        if (keys.TryGetValue("Lifecycle", out var lifecycleEntry) && !IsNull(lifecycleEntry.Value))
        {
            if (lifecycleEntry.Value is RecipeMapping lifecycleMap)
            {
                lifecycle = ReadLifecycle(lifecycleMap, path + ".Lifecycle");
            }
            else
            {
                WrongType(lifecycleEntry.Value, path + ".Lifecycle", "a mapping of lifecycle steps");
            }
        }

        List<string>? selections = null;
        if (keys.TryGetValue("Selections", out var selectionsEntry) && !IsNull(selectionsEntry.Value))
        {
            selections = [];
            if (selectionsEntry.Value is RecipeSequence selectionList)
            {
                for (var i = 0; i < selectionList.Items.Count; i++)
                {
                    if (String(selectionList.Items[i], string.Create(CultureInfo.InvariantCulture, $"{path}.Selections[{i}]")) is { } selection)
                    {
                        selections.Add(selection.Value);
                    }
                }
            }
            else
            {
                WrongType(selectionsEntry.Value, path + ".Selections", "a list of selection keys");
            }
        }

        var artifacts = new List<ComponentArtifact>();
        if (keys.TryGetValue("Artifacts", out var artifactsEntry) && !IsNull(artifactsEntry.Value))
        {
            if (artifactsEntry.Value is RecipeSequence artifactList)
            {
                for (var i = 0; i < artifactList.Items.Count; i++)
                {
                    var artifactPath = string.Create(CultureInfo.InvariantCulture, $"{path}.Artifacts[{i}]");
                    if (artifactList.Items[i] is RecipeMapping artifactMap)
                    {
                        if (ReadArtifact(artifactMap, artifactPath) is { } artifact)
                        {
                            artifacts.Add(artifact);
                        }
                    }
                    else
                    {
                        WrongType(artifactList.Items[i], artifactPath, "a mapping with URI");
                    }
                }
            }
            else
            {
                WrongType(artifactsEntry.Value, path + ".Artifacts", "a list of artifacts");
            }
        }

        return new PlatformManifest
        {
            Index = index,
            Name = name,
            Platform = platform,
            Lifecycle = lifecycle,
            Selections = selections,
            Artifacts = artifacts,
            Location = map.Location,
        };
    }

    private List<KeyValuePair<string, string>>? ReadPlatform(RecipeNode node, string path)
    {
        if (node is not RecipeMapping map)
        {
            WrongType(node, path, "a mapping of attributes (os, architecture, …) to values");
            return null;
        }

        var result = new List<KeyValuePair<string, string>>();
        foreach (var entry in map.Entries)
        {
            var key = entry.Key.Value;
            foreach (var wellKnown in (string[])["os", "architecture"])
            {
                if (key != wellKnown && key.Equals(wellKnown, StringComparison.OrdinalIgnoreCase))
                {
                    Error(entry.Key, $"{path}: '{key}' never matches: platform attributes are case-sensitive and the Nucleus names it '{wellKnown}'");
                }
            }

            if (String(entry.Value, $"{path}.{key}") is not { } value)
            {
                continue;
            }

            if (PlatformManifest.CheckTemplate(value.Value) is { } problem)
            {
                Error(value.Node, $"{path}.{key}: {problem}");
            }

            result.Add(new(key, value.Value));
        }

        return result;
    }

    private ComponentArtifact? ReadArtifact(RecipeMapping map, string path)
    {
        var keys = Keys(map, path, ArtifactKeys, null);
        var uri = RequiredString(keys, "URI", map, path);
        if (uri is not null && !System.Uri.TryCreate(uri.Value, UriKind.Absolute, out _))
        {
            Error(uri.Node, $"{path}.URI: '{uri.Value}' is not an absolute URI (s3://bucket/key, greengrass:…, docker:…)");
        }

        var digest = OptionalString(keys, "Digest", path)?.Value;
        var algorithm = OptionalString(keys, "Algorithm", path)?.Value;
        var unarchive = Unarchive.None;
        if (OptionalString(keys, "Unarchive", path) is { } unarchiveText)
        {
            unarchive = Enumeration(unarchiveText, path + ".Unarchive", Enum.GetValues<Unarchive>(), u => u.ToRecipeString());
        }

        var permission = ArtifactPermission.Default;
        if (keys.TryGetValue("Permission", out var permissionEntry) && !IsNull(permissionEntry.Value))
        {
            if (permissionEntry.Value is RecipeMapping permissionMap)
            {
                var permissionKeys = Keys(permissionMap, path + ".Permission", PermissionKeys, null);
                var read = PermissionType.Owner;
                var execute = PermissionType.None;
                if (OptionalString(permissionKeys, "Read", path + ".Permission") is { } readText)
                {
                    read = Enumeration(readText, path + ".Permission.Read", Enum.GetValues<PermissionType>(), p => p.ToRecipeString());
                }

                if (OptionalString(permissionKeys, "Execute", path + ".Permission") is { } executeText)
                {
                    execute = Enumeration(executeText, path + ".Permission.Execute", Enum.GetValues<PermissionType>(), p => p.ToRecipeString());
                }

                permission = new ArtifactPermission(read, execute);
            }
            else
            {
                WrongType(permissionEntry.Value, path + ".Permission", "a mapping with Read and Execute");
            }
        }

        return uri is null
            ? null
            : new ComponentArtifact
            {
                Uri = uri.Value,
                Digest = digest,
                Algorithm = algorithm,
                Unarchive = unarchive,
                Permission = permission,
                Location = map.Location,
            };
    }

    private Lifecycle ReadLifecycle(RecipeMapping map, string path)
    {
        var keys = Keys(map, path, LifecycleKeys, null);
        var lifecycle = new Lifecycle { Location = map.Location };
        if (keys.TryGetValue("Setenv", out var setenv) && !IsNull(setenv.Value))
        {
            lifecycle = lifecycle with { Setenv = ReadSetenv(setenv.Value, path + ".Setenv") };
        }

        foreach (var kind in Enum.GetValues<LifecycleStepKind>())
        {
            var key = kind.ToRecipeString();
            if (keys.TryGetValue(key, out var entry))
            {
                var step = ReadStep(entry, $"{path}.{key}");
                if (step is not null)
                {
                    lifecycle = lifecycle.With(kind, step);
                }
            }
        }

        return lifecycle;
    }

    private LifecycleStep? ReadStep(RecipeMappingEntry entry, string path)
    {
        var node = entry.Value;
        if (node is RecipeScalar { Type: RecipeScalarType.String } script)
        {
            CheckVariables(script, path);
            return new LifecycleStep { Script = script.Value, IsScriptOnly = true, Location = script.Location };
        }

        if (IsNull(node))
        {
            Error(entry.Key, $"{path}: the step is empty; write a script, or a mapping with Script");
            return null;
        }

        if (node is not RecipeMapping map)
        {
            WrongType(node, path, "a script (a string) or a mapping with Script, Timeout, Setenv, Skipif, RequiresPrivilege");
            return null;
        }

        var keys = Keys(map, path, StepKeys, null);
        var scriptText = RequiredString(keys, "Script", map, path);
        if (scriptText is not null)
        {
            CheckVariables(scriptText.Node, path + ".Script");
        }

        int? timeout = null;
        string? timeoutExpression = null;
        if (keys.TryGetValue("Timeout", out var timeoutEntry) && !IsNull(timeoutEntry.Value))
        {
            ReadTimeout(timeoutEntry.Value, path + ".Timeout", out timeout, out timeoutExpression);
        }

        IReadOnlyDictionary<string, string>? setenv = null;
        if (keys.TryGetValue("Setenv", out var setenvEntry) && !IsNull(setenvEntry.Value))
        {
            setenv = ReadSetenv(setenvEntry.Value, path + ".Setenv");
        }

        SkipIf? skipIf = null;
        if (OptionalString(keys, "Skipif", path) is { } skipText)
        {
            skipIf = SkipIf.TryParse(skipText.Value, out var problem);
            if (skipIf is null)
            {
                Error(skipText.Node, $"{path}.Skipif: {problem}");
            }
        }

        var requiresPrivilege = false;
        if (keys.TryGetValue("RequiresPrivilege", out var privilegeEntry) && !IsNull(privilegeEntry.Value))
        {
            requiresPrivilege = ReadPrivilege(privilegeEntry.Value, path + ".RequiresPrivilege");
        }

        if (scriptText is null)
        {
            return null;
        }

        var step = new LifecycleStep
        {
            Script = scriptText.Value,
            Timeout = timeout,
            TimeoutExpression = timeoutExpression,
            Skipif = skipIf,
            RequiresPrivilege = requiresPrivilege,
            Location = map.Location,
        };
        return setenv is null ? step : step with { Setenv = setenv };
    }

    private void ReadTimeout(RecipeNode node, string path, out int? timeout, out string? expression)
    {
        timeout = null;
        expression = null;
        if (node is RecipeScalar { Type: RecipeScalarType.Integer or RecipeScalarType.String } scalar)
        {
            var text = scalar.Type == RecipeScalarType.Integer ? JavaText.NumberText(scalar.Value, true)! : scalar.Value.Trim();
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
            {
                if (seconds < 0)
                {
                    Error(scalar, $"{path}: {text} is negative; a timeout is a number of seconds");
                }
                else
                {
                    timeout = seconds;
                }

                return;
            }

            if (scalar.Type == RecipeScalarType.String && RecipeVariablePattern().IsMatch(scalar.Value))
            {
                expression = scalar.Value;
                return;
            }

            Error(scalar, $"{path}: '{scalar.Value}' is not a whole number of seconds");
            return;
        }

        WrongType(node, path, "a whole number of seconds");
    }

    private bool ReadPrivilege(RecipeNode node, string path)
    {
        if (node is RecipeScalar { Type: RecipeScalarType.Boolean } boolean)
        {
            return boolean.Value.Equals("true", StringComparison.OrdinalIgnoreCase);
        }

        if (node is RecipeScalar { Type: RecipeScalarType.String } text)
        {
            if (CoerceTrue.Contains(text.Value, StringComparer.Ordinal))
            {
                return true;
            }

            if (CoerceFalse.Contains(text.Value, StringComparer.Ordinal))
            {
                return false;
            }

            Error(text, $"{path}: '{text.Value}' is not true or false (the Nucleus would read it as false)");
            return false;
        }

        WrongType(node, path, "true or false");
        return false;
    }

    private Dictionary<string, string> ReadSetenv(RecipeNode node, string path)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is not RecipeMapping map)
        {
            WrongType(node, path, "a mapping of environment variable names to values");
            return result;
        }

        foreach (var entry in map.Entries)
        {
            var name = entry.Key.Value;
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal))
            {
                Error(entry.Key, $"{path}: '{name}' is not an environment variable name");
                continue;
            }

            if (entry.Value is RecipeScalar scalar && scalar.Type != RecipeScalarType.Null)
            {
                CheckVariables(scalar, $"{path}.{name}");
                result[name] = JavaText.ScalarText(scalar) ?? scalar.Value;
            }
            else if (IsNull(entry.Value))
            {
                Error(entry.Key, $"{path}.{name}: the variable has no value");
            }
            else
            {
                WrongType(entry.Value, $"{path}.{name}", "a string, number or boolean");
            }
        }

        return result;
    }

    private void ApplyGlobalLifecycle(List<PlatformManifest> manifests, RecipeMapping? global)
    {
        var keywords = new HashSet<string>(StringComparer.Ordinal) { "all" };
        foreach (var manifest in manifests)
        {
            keywords.UnionWith(manifest.Selections ?? []);
        }

        var used = false;
        for (var i = 0; i < manifests.Count; i++)
        {
            var manifest = manifests[i];
            if (manifest.Lifecycle is { IsEmpty: false } own)
            {
                manifests[i] = manifest with { EffectiveLifecycle = own };
                continue;
            }

            if (global is null)
            {
                continue;
            }

            used = true;
            manifests[i] = manifest with { EffectiveLifecycle = SelectGlobal(global, keywords, manifest.Selections) };
        }

        if (global is not null && !used)
        {
            // No manifest uses it, but it is still checked.
            SelectGlobal(global, keywords, null);
        }
    }

    private Lifecycle SelectGlobal(RecipeMapping global, HashSet<string> keywords, IReadOnlyList<string>? selections)
    {
        var selected = FilterSelections(global, keywords, selections, "Lifecycle");
        switch (selected)
        {
            case null:
                return Lifecycle.Empty;
            case RecipeMapping map:
                return ReadLifecycle(map, "Lifecycle");
            default:
                WrongType(selected, "Lifecycle", "a mapping of lifecycle steps (after selection)");
                return Lifecycle.Empty;
        }
    }

    /// <summary>
    /// The Nucleus's <c>PlatformResolver.filterPlatform</c>: at each level, if a key is a selection keyword (a
    /// selection of any manifest, or <c>all</c>), the value of the first of the manifest's selections present (else
    /// <c>all</c>) replaces the level, recursively; other levels are kept with their values filtered. Null values count
    /// as missing. Unlike the Nucleus, which logs and ignores them, other keys next to selection keys are an error.
    /// </summary>
    private RecipeNode? FilterSelections(RecipeMapping source, HashSet<string> keywords, IReadOnlyList<string>? selections, string path)
    {
        var selectorEntries = source.Entries.Where(e => keywords.Contains(e.Key.Value)).ToList();
        if (selectorEntries.Count > 0)
        {
            var others = source.Entries.Where(e => !keywords.Contains(e.Key.Value)).ToList();
            if (others.Count > 0)
            {
                Error(others[0].Key, $"{path}: selection keys ({string.Join(", ", selectorEntries.Select(e => e.Key.Value))}) and other keys ({string.Join(", ", others.Select(e => e.Key.Value))}) at the same level; the Nucleus uses a selection and ignores the other keys");
            }

            RecipeMappingEntry? selected = null;
            foreach (var selection in selections ?? [])
            {
                selected = source.Entries.FirstOrDefault(e => e.Key.Value == selection && !IsNull(e.Value));
                if (selected is not null)
                {
                    break;
                }
            }

            selected ??= source.Entries.FirstOrDefault(e => e.Key.Value == "all" && !IsNull(e.Value));
            return selected is null ? null : FilterNode(selected.Value, keywords, selections, $"{path}.{selected.Key.Value}");
        }

        var entries = new List<RecipeMappingEntry>();
        foreach (var entry in source.Entries)
        {
            var filtered = FilterNode(entry.Value, keywords, selections, $"{path}.{entry.Key.Value}");
            if (filtered is not null)
            {
                entries.Add(new RecipeMappingEntry(entry.Key, filtered));
            }
        }

        return new RecipeMapping(source.Location, entries);
    }

    private RecipeNode? FilterNode(RecipeNode node, HashSet<string> keywords, IReadOnlyList<string>? selections, string path) => node switch
    {
        RecipeMapping map => FilterSelections(map, keywords, selections, path),
        _ when IsNull(node) => null,
        _ => node,
    };

    // ---- helpers ----

    private sealed record StringValue(string Value, RecipeScalar Node);

    private Dictionary<string, RecipeMappingEntry> Keys(RecipeMapping map, string path, string[] canonical, Func<string, string?>? hint)
    {
        var result = new Dictionary<string, RecipeMappingEntry>(StringComparer.Ordinal);
        foreach (var entry in map.Entries)
        {
            var key = entry.Key.Value;
            var match = canonical.FirstOrDefault(c => c.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                var message = $"{Prefix(path)}unknown key '{key}'";
                if (hint?.Invoke(key) is { } where)
                {
                    message += "; " + where;
                }
                else if (Suggestions.Closest(key, canonical) is { } suggestion)
                {
                    message += $"; did you mean '{suggestion}'?";
                }
                else
                {
                    message += $" (expected {string.Join(", ", canonical)})";
                }

                Error(entry.Key, message);
                continue;
            }

            if (result.TryGetValue(match, out var first))
            {
                Error(entry.Key, $"{Prefix(path)}'{key}' repeats '{first.Key.Value}' (line {first.Key.Location.Line.ToString(CultureInfo.InvariantCulture)}); keys are case-insensitive");
                continue;
            }

            result[match] = entry;
        }

        return result;
    }

    private static string? TopLevelHint(string key)
    {
        if (ManifestKeys.Contains(key, StringComparer.OrdinalIgnoreCase) && !key.Equals("Lifecycle", StringComparison.OrdinalIgnoreCase))
        {
            return $"{key} belongs in a manifest (under Manifests)";
        }

        if (key.Equals("DefaultConfiguration", StringComparison.OrdinalIgnoreCase))
        {
            return "DefaultConfiguration belongs under ComponentConfiguration";
        }

        if (key.Equals("accessControl", StringComparison.OrdinalIgnoreCase))
        {
            return "accessControl belongs under ComponentConfiguration.DefaultConfiguration";
        }

        return null;
    }

    private static string? ManifestHint(string key) =>
        TopKeys.Contains(key, StringComparer.OrdinalIgnoreCase) ? $"{key} belongs at the top level of the recipe, not in a manifest" : null;

    private StringValue? RequiredString(Dictionary<string, RecipeMappingEntry> keys, string key, RecipeMapping map, string path)
    {
        if (!keys.TryGetValue(key, out var entry))
        {
            Error(map.Location, $"{Prefix(path)}{key} is required");
            return null;
        }

        if (IsNull(entry.Value))
        {
            Error(entry.Key, $"{Prefix(path)}{key} is required but has no value");
            return null;
        }

        return String(entry.Value, Join(path, key));
    }

    private StringValue? OptionalString(Dictionary<string, RecipeMappingEntry> keys, string key, string path) =>
        keys.TryGetValue(key, out var entry) && !IsNull(entry.Value) ? String(entry.Value, Join(path, key)) : null;

    private StringValue? String(RecipeNode node, string path)
    {
        if (node is RecipeScalar { Type: RecipeScalarType.String } scalar)
        {
            return new StringValue(scalar.Value, scalar);
        }

        if (node is RecipeScalar other)
        {
            Error(other, $"{path}: expected a string, found {other.Describe()} ({other.Value}); quote it to make it a string");
        }
        else
        {
            WrongType(node, path, "a string");
        }

        return null;
    }

    private T Enumeration<T>(StringValue text, string path, T[] values, Func<T, string> name)
        where T : struct, Enum
    {
        foreach (var value in values)
        {
            if (name(value).Equals(text.Value, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        var names = values.Select(name).ToArray();
        var message = $"{path}: '{text.Value}' is not one of {string.Join(", ", names)}";
        if (Suggestions.Closest(text.Value, names) is { } suggestion)
        {
            message += $"; did you mean '{suggestion}'?";
        }

        Error(text.Node, message);
        return values[0];
    }

    /// <summary>
    /// Policy ids must be unique across all the services of a component's accessControl: the Nucleus keys policies
    /// by id, so a repeated id silently replaces the other policy.
    /// </summary>
    private void CheckPolicyIds(RecipeMapping defaults)
    {
        var accessControl = defaults.Entries.FirstOrDefault(e => e.Key.Value == "accessControl");
        if (accessControl?.Value is not RecipeMapping services)
        {
            return;
        }

        var seen = new Dictionary<string, (string Service, RecipeScalar Key)>(StringComparer.Ordinal);
        foreach (var service in services.Entries)
        {
            if (service.Value is not RecipeMapping policies)
            {
                continue;
            }

            foreach (var policy in policies.Entries)
            {
                if (seen.TryGetValue(policy.Key.Value, out var first))
                {
                    Error(policy.Key, $"ComponentConfiguration.DefaultConfiguration.accessControl.{service.Key.Value}: policy id '{policy.Key.Value}' is already used by {first.Service} (line {first.Key.Location.Line.ToString(CultureInfo.InvariantCulture)}); policy ids must be unique within a component");
                }
                else
                {
                    seen[policy.Key.Value] = (service.Key.Value, policy.Key);
                }
            }
        }
    }

    /// <summary>
    /// Recipe variables in a lifecycle value: a known namespace with an unknown key, a configuration key that is not a
    /// JSON pointer, or another component's variable for a component that is not a direct dependency are errors (the
    /// Nucleus would leave the text as written and the script would run with it). Text that only looks like a
    /// variable in an unknown namespace (<c>${HOME:-/tmp}</c>) is left alone, as the Nucleus leaves it.
    /// </summary>
    private void CheckVariables(RecipeScalar scalar, string path)
    {
        if (scalar.Type != RecipeScalarType.String)
        {
            return;
        }

        foreach (Match match in VariableCandidatePattern().Matches(scalar.Value))
        {
            var first = match.Groups[1].Value;
            var rest = match.Groups[2].Value;
            string? problem;
            if (SelfNamespaces.Contains(first))
            {
                problem = KeyProblem(first, rest, self: true);
            }
            else
            {
                var colon = rest.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0 || !CrossNamespaces.Contains(rest[..colon]))
                {
                    continue;
                }

                problem = !_dependencyNames.Contains(first)
                    ? $"'{first}' is not a direct dependency of this component (ComponentDependencies), so its variables cannot be used"
                    : KeyProblem(rest[..colon], rest[(colon + 1)..], self: false);
            }

            if (problem is null)
            {
                continue;
            }

            var line = scalar.Value.AsSpan(0, match.Index).Count('\n');
            var where = line == 0 ? scalar.LocationOf(match.Index) : scalar.Location;
            var inLine = line == 0 ? string.Empty : $" (line {(line + 1).ToString(CultureInfo.InvariantCulture)} of the value)";
            var error = new RecipeError(where, $"{path}: {match.Value}{inLine}: {problem}");
            if (_variableErrors.Add(error))
            {
                _errors.Add(error);
            }
        }
    }

    private static readonly HashSet<string> SelfNamespaces = new(StringComparer.Ordinal) { "artifacts", "work", "kernel", "iot", "configuration" };

    private static readonly HashSet<string> CrossNamespaces = new(StringComparer.Ordinal) { "artifacts", "work", "configuration" };

    private static string? KeyProblem(string ns, string key, bool self) => ns switch
    {
        "artifacts" => key is "path" or "decompressedPath" ? null : $"unknown key '{key}' of artifacts (path or decompressedPath)",
        "work" => key == "path" ? null : $"unknown key '{key}' of work (path)",
        "kernel" => key == "rootPath" ? null : $"unknown key '{key}' of kernel (rootPath)",
        "iot" => key == "thingName" ? null : $"unknown key '{key}' of iot (thingName)",
        "configuration" => key.Length == 0 || key[0] == '/' ? null : $"'{key}' is not a JSON pointer: configuration keys start with '/' (the Nucleus fails the deployment)",
        _ => self ? $"unknown namespace '{ns}'" : null,
    };

    private static bool IsNull(RecipeNode node) => node is RecipeScalar { Type: RecipeScalarType.Null };

    private void WrongType(RecipeNode node, string path, string expected) =>
        Error(node.Location, $"{path}: expected {expected}, found {node.Describe()}");

    private void Error(RecipeNode node, string message) => Error(node.Location, message);

    private void Error(SourceLocation location, string message) => _errors.Add(new RecipeError(location, message));

    private static string Prefix(string path) => path.Length == 0 ? string.Empty : path + ": ";

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    [GeneratedRegex("^[a-zA-Z0-9_.-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ComponentNamePattern();

    [GeneratedRegex("^arn:aws(-(cn|us-gov|iso(-[a-z])?))?:lambda:.*$", RegexOptions.CultureInvariant)]
    private static partial Regex LambdaArnPattern();

    [GeneratedRegex(@"\{([.\w-]+):([^{}\s]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex VariableCandidatePattern();

    [GeneratedRegex(@"\{[.\w-]+:[^}]*\}", RegexOptions.CultureInvariant)]
    private static partial Regex RecipeVariablePattern();
}
