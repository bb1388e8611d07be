namespace Fogline.ComponentKit.Processing;

/// <summary>
/// A compressor of one series (one device's metric): takes readings, gives the points a consumer needs to reconstruct
/// the series within a stated error. One instance per series; not thread-safe; allocates nothing per reading.
/// </summary>
public interface ISeriesFilter
{
    /// <summary>The most points one call can write: output spans must hold at least this many.</summary>
    int MaxOutput { get; }

    /// <summary>Readings taken but not yet accounted for by a forwarded point (held back).</summary>
    int Held { get; }

    /// <summary>Readings seen.</summary>
    long Received { get; }

    /// <summary>Points forwarded.</summary>
    long Forwarded { get; }

    /// <summary>Takes a reading; writes the points to forward (oldest first) into <paramref name="output"/> and returns how many.</summary>
    int Add(SeriesPoint reading, Span<SeriesPoint> output);

    /// <summary>Forwards whatever is held (a series gone quiet, or shutdown) and returns how many points it wrote.</summary>
    int Flush(Span<SeriesPoint> output);
}
