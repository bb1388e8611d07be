using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Aws.Signing;
using Fogline.Greengrass.Recipes;
using Fogline.LocalCloud.Auth;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.S3;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>
/// AWS IoT Greengrass V2's component APIs, as the service answers them: CreateComponentVersion from an inline recipe
/// (the recipe checked as the Nucleus reads it, every error with its line and column; at most 16,000 bytes; each
/// <c>s3://</c> artifact must be an object the caller can read in the component's region, else the service's
/// "Specified artifact resource cannot be accessed"; an existing version is a ConflictException; a retry with the same
/// <c>clientToken</c> gets the first answer), then the version REQUESTED until the cloud has read its artifacts and
/// added their SHA-256 digests to the recipe (DEPLOYABLE, or FAILED with the reason per artifact);
/// DescribeComponent, GetComponent (JSON or YAML), ListComponents (the latest version of each), ListComponentVersions
/// (highest version first), DeleteComponent, and GetComponentVersionArtifact (a presigned S3 URL). Everything is
/// scoped to the caller's account and the region the request was signed for, and pages with opaque tokens.
/// </summary>
internal sealed class ComponentsService
{
    /// <summary>The largest recipe the service takes (GDK checks the same bound).</summary>
    public const int MaxRecipeBytes = 16000;

    private const int DefaultPageSize = 50;
    private readonly ComponentStore _store;
    private readonly S3Store _s3;
    private readonly CloudCredential _service;
    private readonly Func<Uri> _endpoint;
    private readonly TimeProvider _time;
    private readonly TimeSpan _processingDelay;

    public ComponentsService(ComponentStore store, S3Store s3, CloudCredential service, Func<Uri> endpoint, TimeProvider time, TimeSpan processingDelay)
    {
        _store = store;
        _s3 = s3;
        _service = service;
        _endpoint = endpoint;
        _time = time;
        _processingDelay = processingDelay;
    }

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(GreengrassV2Operations.CreateComponentVersion, (input, request) => Task.FromResult(Create(input, request)));
        endpoint.Handle(GreengrassV2Operations.DescribeComponent, (input, request) => Task.FromResult(Describe(input, request)));
        endpoint.Handle(GreengrassV2Operations.GetComponent, (input, request) => Task.FromResult(Get(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListComponents, (input, request) => Task.FromResult(List(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListComponentVersions, (input, request) => Task.FromResult(ListVersions(input, request)));
        endpoint.Handle(GreengrassV2Operations.DeleteComponent, (input, request) => Task.FromResult(Delete(input, request)));
        endpoint.Handle(GreengrassV2Operations.GetComponentVersionArtifact, (input, request) => Task.FromResult(GetArtifact(input, request)));
    }

    /// <summary>
    /// The data plane the core devices use (with their certificates): ResolveComponentCandidates and
    /// GetComponentVersionArtifact, in the device's account and region.
    /// </summary>
    public void RegisterDataPlane(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(GreengrassV2Operations.ResolveComponentCandidates, (input, request) => Task.FromResult(Resolve(input, request)));
        endpoint.Handle(GreengrassV2Operations.GetComponentVersionArtifact, (input, request) => Task.FromResult(GetArtifact(input, request)));
    }

    /// <summary>Processes every version still REQUESTED whose time has come (after a restart, and on each read).</summary>
    public void ProcessDue()
    {
        foreach (var record in _store.All().Where(r => r.State == CloudComponentState.REQUESTED).ToList())
        {
            ProcessIfDue(record);
        }
    }

    /// <summary>
    /// For each candidate, the highest DEPLOYABLE version of the component that satisfies every version requirement
    /// and has a manifest for the device's platform, with its recipe (as GetComponent answers it, digests included).
    /// </summary>
    private ResolveComponentCandidatesResponse Resolve(ResolveComponentCandidatesRequest input, CloudRequest request)
    {
        var attributes = input.Platform?.Attributes ?? [];
        var platform = new DevicePlatform(attributes.GetValueOrDefault("os") ?? "linux", attributes.GetValueOrDefault("architecture") ?? "amd64", attributes);
        var resolved = new List<ResolvedComponentVersion>();
        foreach (var candidate in input.ComponentCandidates ?? [])
        {
            var name = candidate.ComponentName ?? throw Invalid("componentCandidates", "componentName is required.");
            var requirements = new List<(string Dependent, VersionRange Range)>();
            foreach (var (dependent, text) in candidate.VersionRequirements ?? [])
            {
                if (!VersionRange.TryParse(text, out var range))
                {
                    throw Invalid("versionRequirements", $"The version requirement '{text}' of {dependent} on {name} is not a version range.");
                }

                requirements.Add((dependent, range));
            }

            ProcessDue();
            var versions = _store.Versions(request.Caller.AccountId, request.Region, name)
                .Where(r => r.State == CloudComponentState.DEPLOYABLE)
                .Select(r => (Record: r, Version: SemVersion.Parse(r.Version)))
                .Where(v => requirements.All(r => r.Range.IsSatisfiedBy(v.Version)))
                .OrderByDescending(v => v.Version)
                .ToList();
            var chosen = versions.Select(v => v.Record).FirstOrDefault(r =>
            {
                try
                {
                    _store.Recipe(r).SelectManifest(platform);
                    return true;
                }
                catch (RecipeException)
                {
                    return false;
                }
            });
            if (chosen is null)
            {
                var wanted = requirements.Count == 0 ? "any version" : string.Join(", ", requirements.Select(r => $"{r.Range} from {r.Dependent}"));
                throw GreengrassV2Errors.CreateResourceNotFoundException(
                    $"No version of {name} in account {request.Caller.AccountId} ({request.Region}) is DEPLOYABLE, satisfies {wanted} and runs on {platform}.", name, "component");
            }

            resolved.Add(new ResolvedComponentVersion
            {
                Arn = chosen.Arn.ToString(),
                ComponentName = chosen.Name,
                ComponentVersion = chosen.Version,
                Recipe = Encoding.UTF8.GetBytes(_store.Recipe(chosen).ToJson()),
                VendorGuidance = "ACTIVE",
                Message = string.Empty,
            });
        }

        return new ResolveComponentCandidatesResponse { ResolvedComponentVersions = resolved };
    }

    private CreateComponentVersionResponse Create(CreateComponentVersionRequest input, CloudRequest request)
    {
        if (input.LambdaFunction is not null)
        {
            throw new AwsServiceException("NotImplementedException", 501, "The local Greengrass cloud creates components from inline recipes only; lambdaFunction is not supported.");
        }

        if (input.InlineRecipe is not { Length: > 0 } bytes)
        {
            throw Invalid("inlineRecipe", "Either inlineRecipe or lambdaFunction must be given.");
        }

        if (bytes.Length > MaxRecipeBytes)
        {
            throw Invalid("inlineRecipe", $"The recipe is {bytes.Length} bytes; a recipe can be at most {MaxRecipeBytes} bytes.");
        }

        ComponentRecipe recipe;
        try
        {
            recipe = ComponentRecipe.Parse(bytes, "inlineRecipe", LooksLikeJson(bytes) ? RecipeFormat.Json : RecipeFormat.Yaml);
        }
        catch (RecipeException e)
        {
            var errors = e.Errors.Count > 0 ? string.Join("; ", e.Errors.Select(r => r.ToString())) : e.Message;
            throw Invalid("inlineRecipe", "The recipe is not valid: " + errors);
        }

        var version = recipe.ComponentVersion.ToString();
        if (recipe.ComponentName.Length > 128 || version.Length > 64)
        {
            throw Invalid("inlineRecipe", "ComponentName can be at most 128 characters and ComponentVersion at most 64.");
        }

        if (input.ClientToken is { } token && (token.Length is < 1 or > 64 || !token.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw Invalid("clientToken", "clientToken must be 1 to 64 characters: letters, digits and hyphens.");
        }

        var account = request.Caller.AccountId;
        var requestHash = RequestHash(bytes, input.Tags);
        lock (_store.Sync)
        {
            if (_store.Find(account, request.Region, recipe.ComponentName, version) is { } existing)
            {
                if (input.ClientToken is not null && existing.ClientToken == input.ClientToken && existing.RequestHash == requestHash)
                {
                    return CreatedResponse(existing);
                }

                throw GreengrassV2Errors.CreateConflictException(
                    $"Component [{recipe.ComponentName} : {version}] for account [{account}] already exists and can't be created again.",
                    existing.Arn.ToString(), "COMPONENT_VERSION");
            }

            var artifacts = recipe.Manifests.SelectMany(m => m.Artifacts).Select(a => a.Uri).Distinct(StringComparer.Ordinal).ToList();
            var inaccessible = artifacts.Where(uri => ReadableObject(uri, account, request.Region) is null).ToList();
            if (inaccessible.Count > 0)
            {
                throw GreengrassV2Errors.CreateValidationException(
                    "Invalid Input: Encountered following errors in Artifacts: {" + string.Join(", ", inaccessible.Select(u => u + " = Specified artifact resource cannot be accessed")) + "}",
                    "FIELD_VALIDATION_FAILED");
            }

            var record = new ComponentVersionRecord
            {
                Account = account,
                Region = request.Region,
                Name = recipe.ComponentName,
                Version = version,
                Created = _time.GetUtcNow(),
                Publisher = recipe.ComponentPublisher,
                Description = recipe.ComponentDescription,
                Platforms = [.. recipe.Manifests.Select(m => new PlatformRecord(m.Name, (m.Platform ?? []).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)))],
                Tags = input.Tags ?? [],
                Artifacts = [.. artifacts.Select(u => new ArtifactRecord(u))],
                ClientToken = input.ClientToken,
                RequestHash = requestHash,
            };
            _store.Save(record, recipe);
            return CreatedResponse(record);
        }
    }

    private DescribeComponentResponse Describe(DescribeComponentRequest input, CloudRequest request)
    {
        var record = Version(input.Arn, "arn", request, nameof(Describe));
        return new DescribeComponentResponse
        {
            Arn = record.Arn.ToString(),
            ComponentName = record.Name,
            ComponentVersion = record.Version,
            CreationTimestamp = record.Created,
            Publisher = record.Publisher,
            Description = record.Description,
            Status = Status(record),
            Platforms = [.. record.Platforms.Select(p => new ComponentPlatform { Name = p.Name, Attributes = p.Attributes })],
            Tags = record.Tags,
        };
    }

    private GetComponentResponse Get(GetComponentRequest input, CloudRequest request)
    {
        var format = input.RecipeOutputFormat ?? RecipeOutputFormat.JSON;
        if (format is not (RecipeOutputFormat.JSON or RecipeOutputFormat.YAML))
        {
            throw Invalid("recipeOutputFormat", $"recipeOutputFormat must be JSON or YAML, not '{format}'.");
        }

        var record = Version(input.Arn, "arn", request, "GetComponent");
        var recipe = _store.Recipe(record);
        return new GetComponentResponse
        {
            RecipeOutputFormat = format,
            Recipe = Encoding.UTF8.GetBytes(format == RecipeOutputFormat.JSON ? recipe.ToJson() : recipe.ToYaml()),
            Tags = record.Tags,
        };
    }

    private ListComponentsResponse List(ListComponentsRequest input, CloudRequest request)
    {
        var scope = input.Scope ?? ComponentVisibilityScope.PRIVATE;
        if (scope is not (ComponentVisibilityScope.PRIVATE or ComponentVisibilityScope.PUBLIC))
        {
            throw Invalid("scope", $"scope must be PRIVATE or PUBLIC, not '{scope}'.");
        }

        // The local cloud has no AWS-provided (public) components.
        var names = scope == ComponentVisibilityScope.PUBLIC ? [] : _store.Names(request.Caller.AccountId, request.Region);
        var (page, next) = Page(names, input.MaxResults, input.NextToken);
        return new ListComponentsResponse
        {
            Components = [.. page.Select(name =>
            {
                var latest = Refreshed(_store.Versions(request.Caller.AccountId, request.Region, name)[0]);
                return new Component
                {
                    Arn = latest.Arn.Component.ToString(),
                    ComponentName = name,
                    LatestVersion = new ComponentLatestVersion
                    {
                        Arn = latest.Arn.ToString(),
                        ComponentVersion = latest.Version,
                        CreationTimestamp = latest.Created,
                        Description = latest.Description,
                        Publisher = latest.Publisher,
                        Platforms = [.. latest.Platforms.Select(p => new ComponentPlatform { Name = p.Name, Attributes = p.Attributes })],
                    },
                };
            })],
            NextToken = next,
        };
    }

    private ListComponentVersionsResponse ListVersions(ListComponentVersionsRequest input, CloudRequest request)
    {
        var arn = ComponentArn.Parse(input.Arn, "arn", versioned: false);
        CheckOwner(arn, request, "ListComponentVersions");
        var versions = _store.Versions(arn.Account, arn.Region, arn.Name);
        var (page, next) = Page(versions, input.MaxResults, input.NextToken);
        return new ListComponentVersionsResponse
        {
            ComponentVersions = [.. page.Select(v => new ComponentVersionListItem { ComponentName = v.Name, ComponentVersion = v.Version, Arn = v.Arn.ToString() })],
            NextToken = next,
        };
    }

    private Empty Delete(DeleteComponentRequest input, CloudRequest request)
    {
        lock (_store.Sync)
        {
            var record = Version(input.Arn, "arn", request, "DeleteComponent");
            _store.Delete(record);
        }

        return new Empty();
    }

    private GetComponentVersionArtifactResponse GetArtifact(GetComponentVersionArtifactRequest input, CloudRequest request)
    {
        var record = Version(input.Arn, "arn", request, "GetComponentVersionArtifact");
        var name = input.ArtifactName ?? string.Empty;
        var matches = record.Artifacts.Where(a => AfterScheme(a.Uri) == name).ToList();
        if (matches.Count == 0)
        {
            matches = [.. record.Artifacts.Where(a => a.Uri.Split('/')[^1] == name)];
        }

        if (matches.Count != 1 || S3Location(matches[0].Uri) is not { } location)
        {
            throw GreengrassV2Errors.CreateResourceNotFoundException(
                matches.Count > 1 ? $"The artifact name '{name}' matches more than one artifact of {record.Arn}; give the URI after the scheme (bucket/key)." : $"The component version {record.Arn} has no artifact '{name}'.",
                record.Arn + "/" + name, "ARTIFACT");
        }

        var bucket = _s3.Bucket(location.Bucket);
        var url = new Uri(_endpoint(), "/" + SigV4.Encode(location.Bucket, keepSlash: false) + "/" + SigV4.Encode(location.Key, keepSlash: true));
        var credentials = new ImmutableCredentials(_service.AccessKeyId, _service.SecretAccessKey, _service.SessionToken);
        return new GetComponentVersionArtifactResponse
        {
            PreSignedUrl = SigV4.PresignGet(url, credentials, bucket?.Region ?? record.Region, _time.GetUtcNow().UtcDateTime, TimeSpan.FromHours(1)).AbsoluteUri,
        };
    }

    /// <summary>A version named by a version ARN, the caller's, processed if its time has come.</summary>
    private ComponentVersionRecord Version(string? text, string member, CloudRequest request, string operation)
    {
        var arn = ComponentArn.Parse(text, member, versioned: true);
        CheckOwner(arn, request, operation);
        var record = _store.Find(arn.Account, arn.Region, arn.Name, arn.Version!)
            ?? throw GreengrassV2Errors.CreateResourceNotFoundException($"The component version {arn} does not exist.", arn.ToString(), "COMPONENT_VERSION");
        return Refreshed(record);
    }

    private static void CheckOwner(ComponentArn arn, CloudRequest request, string operation)
    {
        if (arn.Account != request.Caller.AccountId)
        {
            throw GreengrassV2Errors.CreateAccessDeniedException($"User: arn:aws:iam::{request.Caller.AccountId}:user/{request.Caller.UserName} is not authorized to perform: greengrass:{operation} on resource: {arn}");
        }

        if (arn.Region != request.Region)
        {
            throw GreengrassV2Errors.CreateValidationException($"The ARN {arn} is in region {arn.Region}, but the request was sent to {request.Region}.", "FIELD_VALIDATION_FAILED");
        }
    }

    private ComponentVersionRecord Refreshed(ComponentVersionRecord record) =>
        record.State == CloudComponentState.REQUESTED ? ProcessIfDue(record) : record;

    /// <summary>
    /// Reads the artifacts of a REQUESTED version once its processing delay has passed, as the service does after
    /// accepting it: each digest goes into the recipe (SHA-256, base64), and a version whose artifact can no longer be
    /// read is FAILED with the reason.
    /// </summary>
    private ComponentVersionRecord ProcessIfDue(ComponentVersionRecord record)
    {
        if (_time.GetUtcNow() < record.Created + _processingDelay)
        {
            return record;
        }

        lock (_store.Sync)
        {
            var current = _store.Find(record.Account, record.Region, record.Name, record.Version);
            if (current is null || current.State != CloudComponentState.REQUESTED)
            {
                return current ?? record;
            }

            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            var errors = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var artifact in current.Artifacts)
            {
                if (ReadableObject(artifact.Uri, current.Account, current.Region) is { } location)
                {
                    digests[artifact.Uri] = Convert.ToBase64String(SHA256.HashData(_s3.Read(location.Bucket, location.Key)));
                }
                else if (S3Location(artifact.Uri) is not null)
                {
                    errors[artifact.Uri] = "Specified artifact resource cannot be accessed";
                }
            }

            var recipe = _store.Recipe(current);
            if (errors.Count > 0)
            {
                current.State = CloudComponentState.FAILED;
                current.Message = "Failed to process the component's artifacts.";
                current.Errors = errors;
                _store.Save(current, null);
                return current;
            }

            recipe = recipe with
            {
                Manifests = [.. recipe.Manifests.Select(m => m with
                {
                    Artifacts = [.. m.Artifacts.Select(a => digests.TryGetValue(a.Uri, out var digest) ? a with { Digest = digest, Algorithm = "SHA-256" } : a)],
                })],
            };
            var processed = new ComponentVersionRecord
            {
                Account = current.Account,
                Region = current.Region,
                Name = current.Name,
                Version = current.Version,
                Created = current.Created,
                Publisher = current.Publisher,
                Description = current.Description,
                Platforms = current.Platforms,
                Tags = current.Tags,
                Artifacts = [.. current.Artifacts.Select(a => a with { Digest = digests.GetValueOrDefault(a.Uri) })],
                ClientToken = current.ClientToken,
                RequestHash = current.RequestHash,
                State = CloudComponentState.DEPLOYABLE,
            };
            _store.Save(processed, recipe);
            return processed;
        }
    }

    /// <summary>The bucket and key of an <c>s3://</c> URI when the object exists in a bucket of <paramref name="account"/> in <paramref name="region"/>; null otherwise (also for other schemes' URIs, which need no object).</summary>
    private (string Bucket, string Key)? ReadableObject(string uri, string account, string region)
    {
        if (S3Location(uri) is not { } location)
        {
            return uri.StartsWith("s3:", StringComparison.OrdinalIgnoreCase) ? null : (string.Empty, string.Empty);
        }

        return _s3.Bucket(location.Bucket) is { } bucket && bucket.AccountId == account && bucket.Region == region && _s3.Head(location.Bucket, location.Key) is not null
            ? location
            : null;
    }

    private static (string Bucket, string Key)? S3Location(string uri)
    {
        if (!uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var rest = uri[5..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 || slash == rest.Length - 1 ? null : (rest[..slash], rest[(slash + 1)..]);
    }

    private static string AfterScheme(string uri)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? uri : uri[(colon + 1)..].TrimStart('/');
    }

    private CreateComponentVersionResponse CreatedResponse(ComponentVersionRecord record) => new()
    {
        Arn = record.Arn.ToString(),
        ComponentName = record.Name,
        ComponentVersion = record.Version,
        CreationTimestamp = record.Created,
        Status = Status(record),
    };

    private static CloudComponentStatus Status(ComponentVersionRecord record) => new()
    {
        ComponentState = record.State,
        Message = record.Message,
        Errors = record.Errors,
    };

    private static (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> items, int? maxResults, string? nextToken) =>
        Paging.Page(items, maxResults, nextToken, DefaultPageSize, 100, (member, message) => Invalid(member, message));

    private static string RequestHash(byte[] recipe, Dictionary<string, string>? tags)
    {
        var text = new StringBuilder(Convert.ToBase64String(recipe));
        foreach (var (key, value) in (tags ?? []).OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            text.Append('\n').Append(key).Append('=').Append(value);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static bool LooksLikeJson(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF)
            {
                continue;
            }

            return b == (byte)'{';
        }

        return false;
    }

    /// <summary>A ValidationException naming the request member at fault.</summary>
    internal static AwsServiceException Invalid(string member, string message)
    {
        var error = GreengrassV2Errors.CreateValidationException(message, "FIELD_VALIDATION_FAILED");
        error.Details["fields"] = new JsonArray(new JsonObject { ["name"] = member, ["message"] = message });
        return error;
    }
}
