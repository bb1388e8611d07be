using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.CliAccess;

/// <summary>Where a CLI finds a running Nucleus: its IPC socket and an auth token.</summary>
/// <param name="SocketPath">The Nucleus's IPC socket (<c>domain_socket_path</c>).</param>
/// <param name="AuthToken">The token CLI clients connect with (<c>cli_auth_token</c>).</param>
public sealed record CliIpcEndpoint(string SocketPath, string AuthToken);

/// <summary>
/// CLI access to the local Nucleus, as the real <c>aws.greengrass.Cli</c> component gives it: at start the Nucleus
/// registers the built-in component <c>aws.greengrass.Cli</c> (RUNNING, allowed every CLI operation and, through its
/// accessControl, local pub/sub and IoT Core MQTT on every topic) and writes its token and the socket path to
/// <c>&lt;root&gt;/cli_ipc_info/user-&lt;euid&gt;</c> as JSON <c>{"cli_auth_token": …, "domain_socket_path": …}</c>,
/// readable by its owner only. The CLI reads <c>user-&lt;euid&gt;</c>, then <c>group-&lt;egid&gt;</c>, then any file
/// of the directory, as greengrass-cli does.
/// <para>
/// Difference from the real Cli component: there each CLI user gets its own principal
/// (<c>greengrass-cli#user-&lt;uid&gt;</c>); here every CLI client is the <c>aws.greengrass.Cli</c> component itself.
/// </para>
/// </summary>
public static class CliIpcInfo
{
    /// <summary>The directory under the root, as the Cli component names it.</summary>
    public const string DirectoryName = "cli_ipc_info";

    /// <summary>The component that CLI clients connect as.</summary>
    public const string CliComponentName = IpcServices.Cli;

    /// <summary>The version the built-in Cli component reports.</summary>
    public const string CliComponentVersion = "2.14.0";

    /// <summary>The key of the token in an ipc_info file.</summary>
    public const string AuthTokenKey = "cli_auth_token";

    /// <summary>The key of the socket path in an ipc_info file.</summary>
    public const string SocketPathKey = "domain_socket_path";

    private const string UserPrefix = "user-";
    private const string GroupPrefix = "group-";

    /// <summary>The ipc_info directory of a root.</summary>
    public static string DirectoryFor(string rootPath) => Path.Combine(Path.GetFullPath(rootPath), DirectoryName);

    /// <summary>Registers the Cli component and writes the ipc_info file of the current user; returns the component.</summary>
    public static ComponentRecord Publish(Nucleus nucleus)
    {
        ArgumentNullException.ThrowIfNull(nucleus);
        var policy = new JsonObject
        {
            ["policyDescription"] = "The local Nucleus's CLI may publish and subscribe on every topic.",
            ["operations"] = new JsonArray("*"),
            ["resources"] = new JsonArray("*"),
        };
        var configuration = new JsonObject
        {
            ["accessControl"] = new JsonObject
            {
                [IpcServices.PubSub] = new JsonObject { ["aws.greengrass.Cli:pubsub:1"] = policy.DeepClone() },
                [IpcServices.MqttProxy] = new JsonObject { ["aws.greengrass.Cli:mqttproxy:1"] = policy.DeepClone() },
            },
        };
        var record = nucleus.AddComponent(CliComponentName, CliComponentVersion, configuration);
        nucleus.Components.SetState(record, LifecycleState.Running);

        var directory = DirectoryFor(nucleus.RootPath);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var file = Path.Combine(directory, UserPrefix + GetEffectiveUserId());
        var json = new JsonObject { [AuthTokenKey] = record.Token, [SocketPathKey] = nucleus.SocketPath }.ToJsonString();

        // Created empty with owner-only permissions before the token goes in.
        File.WriteAllText(file, string.Empty);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(file, json);
        return record;
    }

    /// <summary>Removes the ipc_info directory (when the Nucleus stops).</summary>
    public static void Unpublish(string rootPath)
    {
        var directory = DirectoryFor(rootPath);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Reads the endpoint of the Nucleus at <paramref name="rootPath"/>: <c>user-&lt;euid&gt;</c>, then
    /// <c>group-&lt;egid&gt;</c>, then any file. Null when there is no readable, well-formed ipc_info file.
    /// </summary>
    public static CliIpcEndpoint? TryRead(string rootPath)
    {
        var directory = DirectoryFor(rootPath);
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var candidates = new List<string>
        {
            Path.Combine(directory, UserPrefix + GetEffectiveUserId()),
            Path.Combine(directory, GroupPrefix + GetEffectiveGroupId()),
        };
        candidates.AddRange(Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal));
        foreach (var file in candidates)
        {
            if (TryReadFile(file) is { } endpoint)
            {
                return endpoint;
            }
        }

        return null;
    }

    private static CliIpcEndpoint? TryReadFile(string file)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(AuthTokenKey, out var token) && token.ValueKind == JsonValueKind.String
                && document.RootElement.TryGetProperty(SocketPathKey, out var socket) && socket.ValueKind == JsonValueKind.String)
            {
                return new CliIpcEndpoint(socket.GetString()!, token.GetString()!);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
        }

        return null;
    }

    private static string GetEffectiveUserId() => ReadProcStatusId("Uid:");

    private static string GetEffectiveGroupId() => ReadProcStatusId("Gid:");

    /// <summary>The effective id from <c>/proc/self/status</c> ("Uid:  real  effective  saved  fs"); the user name when that cannot be read.</summary>
    private static string ReadProcStatusId(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var parts = line[field.Length..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length > 1)
                    {
                        return parts[1];
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return Environment.UserName;
    }
}
