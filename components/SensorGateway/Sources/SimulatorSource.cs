using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Simulated metrics with profiles: <c>steady</c> (base plus Gaussian noise), <c>drift</c> (plus driftPerHour),
/// <c>spikes</c> (plus, with spikeProbability, a spike of spikeSize), <c>stuck</c> (the same value every time),
/// <c>dropouts</c> (steady, but with dropoutProbability no value at all), <c>sine</c> (base + amplitude·sin(2πt/period)).
/// Seeded, so a run can be repeated.
/// </summary>
public sealed class SimulatorSource : ISensorSource
{
    private readonly List<SimulatedMetric> _metrics;
    private readonly Random _random;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _started;

    /// <summary>Reads the device's <c>metrics</c> list.</summary>
    public SimulatorSource(ConfigNode device, TimeProvider time, int seed)
    {
        _time = time;
        _started = time.GetUtcNow();
        _random = new Random(device["seed"].Int32(seed));
        _metrics = [];
        foreach (var m in device["metrics"].Items())
        {
            var profile = m["profile"].OneOf("steady", "steady", "drift", "spikes", "stuck", "dropouts", "sine");
            _metrics.Add(new SimulatedMetric(
                m["name"].String(),
                m["unit"].StringOrNull(),
                profile,
                m["base"].Double(0),
                m["noise"].Double(0, 0, double.MaxValue),
                m["driftPerHour"].Double(0),
                m["spikeProbability"].Double(0.01, 0, 1),
                m["spikeSize"].Double(10),
                m["dropoutProbability"].Double(0.1, 0, 1),
                m["amplitude"].Double(1),
                m["periodSeconds"].Double(60, 0.001, 1e9)));
        }

        if (_metrics.Count == 0)
        {
            throw device["metrics"].Error("a simulator needs at least one metric");
        }
    }

    /// <inheritdoc />
    public string Describe() => $"simulator ({_metrics.Count} metrics)";

    /// <inheritdoc />
    public ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        var elapsed = (_time.GetUtcNow() - _started).TotalSeconds;
        foreach (var m in _metrics)
        {
            var noise = m.Noise * Gaussian();
            double value;
            switch (m.Profile)
            {
                case "drift":
                    value = m.Base + (m.DriftPerHour * elapsed / 3600) + noise;
                    break;
                case "spikes":
                    value = m.Base + noise + (_random.NextDouble() < m.SpikeProbability ? m.SpikeSize : 0);
                    break;
                case "stuck":
                    value = m.Base;
                    break;
                case "dropouts":
                    if (_random.NextDouble() < m.DropoutProbability)
                    {
                        continue;
                    }

                    value = m.Base + noise;
                    break;
                case "sine":
                    value = m.Base + (m.Amplitude * Math.Sin(2 * Math.PI * elapsed / m.PeriodSeconds)) + noise;
                    break;
                default:
                    value = m.Base + noise;
                    break;
            }

            values.Add(new SourceValue(m.Name, m.Unit, value, 0));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private double Gaussian()
    {
        // Box-Muller.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private sealed record SimulatedMetric(string Name, string? Unit, string Profile, double Base, double Noise, double DriftPerHour, double SpikeProbability, double SpikeSize, double DropoutProbability, double Amplitude, double PeriodSeconds);
}
