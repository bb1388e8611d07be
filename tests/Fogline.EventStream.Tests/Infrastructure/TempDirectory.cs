namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>A fresh directory under the temporary directory, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        // Short, so that socket paths inside stay well below the 108-byte sockaddr_un limit.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fes-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
