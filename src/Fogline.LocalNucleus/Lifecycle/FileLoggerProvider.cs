using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>
/// The local Nucleus's own log, <c>&lt;root&gt;/logs/greengrass.log</c>, one line per entry in the Nucleus's shape:
/// <c>2026-11-22T14:03:07.125Z [INFO] (Category) EventName: message</c>. Thread-safe; lines are flushed as written.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    /// <summary>Opens (appends to) <paramref name="path"/>.</summary>
    public FileLoggerProvider(string path, LogLevel minimumLevel = LogLevel.Information)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), new UTF8Encoding(false)) { AutoFlush = true };
        MinimumLevel = minimumLevel;
        Path = path;
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>The lowest level written.</summary>
    public LogLevel MinimumLevel { get; }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }

    private void Write(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        var name = level switch
        {
            LogLevel.Trace => "TRACE",
            LogLevel.Debug => "DEBUG",
            LogLevel.Information => "INFO",
            LogLevel.Warning => "WARN",
            LogLevel.Error => "ERROR",
            _ => "FATAL",
        };
        var shortCategory = category[(category.LastIndexOf('.') + 1)..];
        var line = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} [{name}] ({shortCategory}) {eventId.Name ?? eventId.Id.ToString(CultureInfo.InvariantCulture)}: {message}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}");
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

    private sealed class FileLogger(FileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
