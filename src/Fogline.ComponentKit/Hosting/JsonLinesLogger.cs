using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// Writes one JSON object per log line to a stream (standard output for a component, which the Nucleus copies into
/// <c>logs/&lt;Component&gt;.log</c>): <c>{"ts":"2026-11-22T14:03:07.125Z","level":"info","component":"…","category":"…","event":"Started","msg":"…", …fields}</c>.
/// The fields are the message template's named values, with numbers and booleans kept as JSON numbers and booleans.
/// Thread-safe; a line is written and flushed whole.
/// </summary>
public sealed class JsonLinesLoggerProvider : ILoggerProvider
{
    private readonly Stream _output;
    private readonly Lock _gate = new();
    private readonly MemoryStream _line = new(512);
    private readonly Utf8JsonWriter _writer;
    private readonly TimeProvider _time;

    /// <summary>Creates the provider writing to <paramref name="output"/>.</summary>
    public JsonLinesLoggerProvider(string component, Stream output, TimeProvider? time = null)
    {
        Component = component;
        _output = output;
        _time = time ?? TimeProvider.System;
        _writer = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>The component named on every line.</summary>
    public string Component { get; }

    /// <summary>The lowest level written. Default <see cref="LogLevel.Information"/>; can change at run time.</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new JsonLinesLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }

    internal void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        lock (_gate)
        {
            _line.SetLength(0);
            _writer.Reset(_line);
            _writer.WriteStartObject();
            _writer.WriteString("ts"u8, _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            _writer.WriteString("level"u8, LevelName(level));
            _writer.WriteString("component"u8, Component);
            _writer.WriteString("category"u8, category);
            if (!string.IsNullOrEmpty(eventId.Name))
            {
                _writer.WriteString("event"u8, eventId.Name);
            }

            _writer.WriteString("msg"u8, message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    if (key == "{OriginalFormat}" || key is "ts" or "level" or "component" or "category" or "event" or "msg")
                    {
                        continue;
                    }

                    WriteField(key, value);
                }
            }

            if (exception is not null)
            {
                _writer.WriteString("error"u8, exception.GetType().Name + ": " + exception.Message);
            }

            _writer.WriteEndObject();
            _writer.Flush();
            _line.WriteByte((byte)'\n');
            try
            {
                _output.Write(_line.GetBuffer(), 0, (int)_line.Length);
                _output.Flush();
            }
            catch (IOException)
            {
                // The reader went away (the Nucleus closed our stdout): logging must not take the component down.
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void WriteField(string key, object? value)
    {
        switch (value)
        {
            case null: _writer.WriteNull(key); break;
            case bool b: _writer.WriteBoolean(key, b); break;
            case int i: _writer.WriteNumber(key, i); break;
            case long l: _writer.WriteNumber(key, l); break;
            case double d when double.IsFinite(d): _writer.WriteNumber(key, d); break;
            case TimeSpan t: _writer.WriteNumber(key, Math.Round(t.TotalMilliseconds, 3)); break;
            case IFormattable f: _writer.WriteString(key, f.ToString(null, CultureInfo.InvariantCulture)); break;
            default: _writer.WriteString(key, value.ToString()); break;
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };

    private sealed class JsonLinesLogger(JsonLinesLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

/// <summary>A logger factory over one <see cref="ILoggerProvider"/>, without the Microsoft.Extensions.Logging host (AOT-friendly).</summary>
public sealed class SingleProviderLoggerFactory(ILoggerProvider provider) : ILoggerFactory
{
    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("This factory has one provider.");

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

    /// <inheritdoc />
    public void Dispose() => provider.Dispose();
}
