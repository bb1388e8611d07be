using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Fogline.Anomaly.Detection;

/// <summary>A model file that cannot be used: unreadable, not ONNX, or not shaped as a scoring model must be.</summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelLoadException(string path, string reason, Exception? inner = null)
        : base($"model {path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }
}

/// <summary>
/// A scoring model in an ONNX file, run by ONNX Runtime. The session is made once, for one small model on a small CPU:
/// one thread, no spinning, sequential execution, every graph optimisation. Inputs and outputs are bound once to
/// pinned buffers, so scoring a window copies the series' state into them and runs: nothing is allocated per reading.
/// </summary>
/// <remarks>
/// The file must have the inputs <c>history</c> [1, H], <c>calibration</c> [S, C] and <c>ceiling</c> [S, 1] and the
/// outputs <c>score</c> [1] and <c>distance</c> [S], all float32 with fixed sizes; anything else is refused at load with the reason. Not thread-safe: one caller at a time (the component's processing loop).
/// </remarks>
public sealed class OnnxScoringModel : IScoringModel
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtIoBinding _binding;
    private readonly float[] _history;
    private readonly float[] _calibration;
    private readonly float[] _score = new float[1];
    private readonly float[] _distance;
    private readonly float[] _ceiling;
    private readonly List<OrtValue> _values = [];

    private OnnxScoringModel(string path, InferenceSession session, ModelShape shape)
    {
        Path = path;
        _session = session;
        Shape = shape;
        Metadata = session.ModelMetadata.CustomMetadataMap;
        Name = Metadata.TryGetValue("fogline.name", out var name) && !string.IsNullOrWhiteSpace(name) ? name : System.IO.Path.GetFileNameWithoutExtension(path);
        _history = new float[shape.History];
        _calibration = new float[shape.Scales * shape.Calibration];
        _distance = new float[shape.Scales];
        _ceiling = new float[shape.Scales];
        _binding = session.CreateIoBinding();
        Bind("history", _history, [1, shape.History], input: true);
        Bind("calibration", _calibration, [shape.Scales, shape.Calibration], input: true);
        Bind("ceiling", _ceiling, [shape.Scales, 1], input: true);
        Bind("score", _score, [1], input: false);
        Bind("distance", _distance, [shape.Scales], input: false);
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>SHA-256 of the file, hex (what shadow-mode decisions are recorded against).</summary>
    public string Sha256 { get; private init; } = "";

    /// <summary>The file's metadata properties (fogline.name, fogline.parameters, fogline.description…).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public ModelShape Shape { get; }

    /// <summary>Loads and checks a model file; throws <see cref="ModelLoadException"/> with the reason when it cannot be used.</summary>
    public static OnnxScoringModel Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot be read: {e.Message}", e);
        }

        InferenceSession session;
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
            session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelLoadException(path, $"is not a model ONNX Runtime can load: {e.Message}", e);
        }
        finally
        {
            options.Dispose();
        }

        try
        {
            var shape = CheckSignature(session);
            return new OnnxScoringModel(path, session, shape) { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
        }
        catch (ModelLoadException)
        {
            session.Dispose();
            throw;
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException)
        {
            session.Dispose();
            throw new ModelLoadException(path, e.Message, e);
        }

        ModelShape CheckSignature(InferenceSession s)
        {
            var history = Dimensions(s.InputMetadata, "history", "input", 2);
            var calibration = Dimensions(s.InputMetadata, "calibration", "input", 2);
            var ceiling = Dimensions(s.InputMetadata, "ceiling", "input", 2);
            Dimensions(s.OutputMetadata, "score", "output", 1, expectOne: true);
            var distance = Dimensions(s.OutputMetadata, "distance", "output", 1);
            if (history[0] != 1)
            {
                throw new ModelLoadException(path, $"input history must have a first dimension of 1 (it has [{string.Join(", ", history)}])");
            }

            if (distance[0] != calibration[0] || ceiling[0] != calibration[0] || ceiling[1] != 1)
            {
                throw new ModelLoadException(path, $"output distance [{distance[0]}], input calibration [{calibration[0]}, {calibration[1]}] and input ceiling [{ceiling[0]}, {ceiling[1]}] must agree on the number of scales (ceiling [S, 1])");
            }

            var shape = new ModelShape(history[1], calibration[1], calibration[0]);
            if (shape.Problem() is { } problem)
            {
                throw new ModelLoadException(path, problem);
            }

            var extra = s.InputMetadata.Keys.Except(["history", "calibration", "ceiling"]).ToList();
            if (extra.Count > 0)
            {
                throw new ModelLoadException(path, $"has inputs this detector does not provide: {string.Join(", ", extra)}");
            }

            return shape;
        }

        int[] Dimensions(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, string kind, int rank, bool expectOne = false)
        {
            if (!metadata.TryGetValue(name, out var node))
            {
                throw new ModelLoadException(path, $"has no {kind} '{name}' (it has {string.Join(", ", metadata.Keys)})");
            }

            if (!node.IsTensor || node.ElementDataType != TensorElementType.Float)
            {
                throw new ModelLoadException(path, $"{kind} '{name}' is {(node.IsTensor ? node.ElementDataType.ToString() : node.OnnxValueType.ToString())}, not a float32 tensor");
            }

            var dims = node.Dimensions;
            if (dims.Length != rank || dims.Any(d => d <= 0) || (expectOne && dims[0] != 1))
            {
                var wanted = expectOne ? "[1]" : $"{rank} fixed dimensions";
                throw new ModelLoadException(path, $"{kind} '{name}' has shape [{string.Join(", ", dims.Select(d => d <= 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}], not {wanted}");
            }

            return dims;
        }
    }

    /// <inheritdoc />
    public float Evaluate(ReadOnlySpan<float> history, ReadOnlySpan<float> calibration, ReadOnlySpan<float> ceilings, Span<float> distances)
    {
        history.CopyTo(_history);
        calibration.CopyTo(_calibration);
        ceilings.CopyTo(_ceiling);
        _session.RunWithBinding(_run, _binding);
        _distance.CopyTo(distances);
        return _score[0];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _binding.Dispose();
        foreach (var value in _values)
        {
            value.Dispose();
        }

        _run.Dispose();
        _session.Dispose();
    }

    private void Bind(string name, float[] buffer, long[] shape, bool input)
    {
        var value = OrtValue.CreateTensorValueFromMemory(buffer, shape);
        _values.Add(value);
        if (input)
        {
            _binding.BindInput(name, value);
        }
        else
        {
            _binding.BindOutput(name, value);
        }
    }
}
