using BenchmarkDotNet.Attributes;
using Fogline.ComponentKit.Processing;

namespace Fogline.Benchmarks;

/// <summary>
/// The per-reading cost of the edge chain's primitives: compression, windowing, rule evaluation. Each invocation
/// processes 1,000 readings of a noisy sine (OperationsPerInvoke), so the numbers are per reading.
/// </summary>
[MemoryDiagnoser]
public class ProcessingBenchmarks
{
    private const int Readings = 1000;
    private readonly double[] _values = new double[Readings];
    private readonly SeriesPoint[] _output = new SeriesPoint[8];
    private SwingingDoor _door = null!;
    private SwingingDoor _deadband = null!;
    private OptimalPlr _plr = null!;
    private TumblingWindow _window = null!;
    private ThresholdRule _rule = null!;
    private double _time;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Readings; i++)
        {
            _values[i] = 50 + (30 * Math.Sin(i / 40.0)) + (random.NextDouble() - 0.5);
        }

        _door = new SwingingDoor(CompressionMode.SwingingDoor, 0.5, 60);
        _deadband = new SwingingDoor(CompressionMode.Deadband, 0.5, 60);
        _plr = new OptimalPlr(0.5, 60);
        _window = new TumblingWindow(10);
        _rule = new ThresholdRule(new ThresholdSettings(true, 70, 78, 1, 0.5, 5));
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public int SwingingDoorFilter()
    {
        var n = 0;
        for (var i = 0; i < Readings; i++)
        {
            n += _door.Add(new SeriesPoint(_time += 0.1, _values[i]), _output);
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public int OptimalPlrFilter()
    {
        var n = 0;
        for (var i = 0; i < Readings; i++)
        {
            n += _plr.Add(new SeriesPoint(_time += 0.1, _values[i]), _output);
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public int DeadbandFilter()
    {
        var n = 0;
        for (var i = 0; i < Readings; i++)
        {
            n += _deadband.Add(new SeriesPoint(_time += 0.1, _values[i]), _output);
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public long TumblingWindowAdd()
    {
        long n = 0;
        for (var i = 0; i < Readings; i++)
        {
            if (_window.Add(_time += 0.1, _values[i], out var closed))
            {
                n += closed.Count;
            }
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public int ThresholdRuleEvaluate()
    {
        var n = 0;
        for (var i = 0; i < Readings; i++)
        {
            if (_rule.Evaluate(_time += 0.1, _values[i], out _, out _))
            {
                n++;
            }
        }

        return n;
    }
}
