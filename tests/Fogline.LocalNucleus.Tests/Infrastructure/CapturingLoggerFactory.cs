using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Tests.Infrastructure;

/// <summary>Keeps every log entry at every level: its event id, and a line with the category, level, message, each structured value and any exception.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<(int EventId, string Line)> _entries = new();

    /// <summary>The lines, oldest first.</summary>
    public IReadOnlyList<string> Lines => [.. _entries.Select(e => e.Line)];

    /// <summary>The event ids, oldest first.</summary>
    public IReadOnlyCollection<int> EventIds => [.. _entries.Select(e => e.EventId)];

    /// <summary>Every line, one per line.</summary>
    public string Text() => string.Join("\n", Lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = new StringBuilder($"{category} {logLevel} {eventId.Id}: {formatter(state, exception)}");
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    entry.Append($" {key}={value}");
                }
            }

            if (exception is not null)
            {
                entry.Append(' ').Append(exception);
            }

            owner._entries.Enqueue((eventId.Id, entry.ToString()));
        }
    }
}
