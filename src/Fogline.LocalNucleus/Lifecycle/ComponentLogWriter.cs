using System.Globalization;
using System.Text;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>
/// Appends a component's process output to <c>&lt;root&gt;/logs/&lt;ComponentName&gt;.log</c>, one line per output
/// line, in the shape of the Nucleus's component logs:
/// <c>2026-11-22T14:03:07.125Z [INFO] (Run) com.example.Hello: stdout. Hello. {scriptName=services.com.example.Hello.lifecycle.Run, serviceName=com.example.Hello, currentState=RUNNING}</c>
/// (stderr lines are <c>[WARN]</c> and say <c>stderr.</c>). Thread-safe.
/// </summary>
internal sealed class ComponentLogWriter : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;

    public ComponentLogWriter(string logDirectory, string component, TimeProvider time)
    {
        Directory.CreateDirectory(logDirectory);
        Path = System.IO.Path.Combine(logDirectory, component + ".log");
        _writer = new StreamWriter(new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), new UTF8Encoding(false)) { AutoFlush = true };
        Component = component;
        _time = time;
    }

    public string Path { get; }

    public string Component { get; }

    public void Line(string step, bool stderr, string text, string state)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():yyyy-MM-dd'T'HH:mm:ss.fff'Z'} [{(stderr ? "WARN" : "INFO")}] ({step}) {Component}: {(stderr ? "stderr" : "stdout")}. {text}. {{scriptName=services.{Component}.lifecycle.{step}, serviceName={Component}, currentState={state}}}");
        lock (_gate)
        {
            try
            {
                _writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }
}
