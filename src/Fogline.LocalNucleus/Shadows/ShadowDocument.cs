namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// A shadow document as the shadow manager keeps it: a state (desired and reported), their metadata (a timestamp per
/// leaf, mirroring the state), and a version (absent for a document that does not exist yet). Updates, metadata and
/// delta follow the shadow manager's <c>ShadowDocument</c>, <c>ShadowState</c>, <c>ShadowStateMetadata</c>,
/// <c>JsonMerger</c> and <c>JsonUtil</c>, quirks included (see the remarks of the members).
/// </summary>
internal sealed class ShadowDocument
{
    public const string StateKey = "state";
    public const string MetadataKey = "metadata";
    public const string VersionKey = "version";
    public const string TimestampKey = "timestamp";
    public const string ClientTokenKey = "clientToken";
    public const string DesiredKey = "desired";
    public const string ReportedKey = "reported";
    public const string DeltaKey = "delta";

    /// <summary>A document that does not exist yet.</summary>
    public ShadowDocument()
    {
        Metadata = new ShadowMetadata(null, null);
    }

    private ShadowDocument(ShadowState? state, ShadowMetadata metadata, long? version)
    {
        State = state;
        Metadata = metadata;
        Version = version;
    }

    public ShadowState? State { get; private set; }

    public ShadowMetadata Metadata { get; }

    public long? Version { get; private set; }

    /// <summary>Whether the document does not exist yet (it has no version).</summary>
    public bool IsNew => Version is null;

    /// <summary>
    /// A stored document (<c>{"state": ..., "metadata": ...}</c>) with its version, read as the shadow manager's DAO
    /// reads a row. Throws <see cref="InvalidDataException"/> when the JSON does not have that shape.
    /// </summary>
    public static ShadowDocument FromStored(JNode? node, long version)
    {
        if (JNode.IsNullOrMissing(node))
        {
            throw new ShadowRequestException(ShadowError.InvalidJson(string.Empty));
        }

        var stateNode = node!.Get(StateKey);
        ShadowState? state = stateNode switch
        {
            null or JNull => null,
            JObject o => ShadowState.FromStored(o.Get(DesiredKey), o.Get(ReportedKey)),
            _ => throw new InvalidDataException("the state of a stored shadow document is not an object"),
        };
        var metadataNode = node.Get(MetadataKey);
        var metadata = metadataNode switch
        {
            null or JNull => new ShadowMetadata(null, null),
            JObject o => ShadowMetadata.FromStored(o.Get(DesiredKey), o.Get(ReportedKey)),
            _ => throw new InvalidDataException("the metadata of a stored shadow document is not an object"),
        };
        return new ShadowDocument(state, metadata, version);
    }

    /// <summary>A deep copy (the copy constructor of the shadow manager's ShadowDocument).</summary>
    public ShadowDocument Copy() => new(State?.DeepCopy(), Metadata.DeepCopy(), Version);

    /// <summary>
    /// Applies an update request (its <c>state</c>) and increments the version (1 for a new document). Returns the
    /// metadata of the update: the request's state with a <c>{"timestamp": now}</c> for every value.
    /// </summary>
    public JNode Update(JNode request, long timestamp)
    {
        var patch = request.Get(StateKey);
        State ??= new ShadowState(null, null);
        State.Update(patch);
        var metadataPatch = Metadata.Update(patch!, State, timestamp);
        Version = Version is { } v ? v + 1 : 1;
        return metadataPatch;
    }

    /// <summary><c>{"state": ..., "metadata": ...}</c> (what is stored), with the version when asked.</summary>
    public JObject ToJson(bool withVersion)
    {
        var result = new JObject();
        result.Set(StateKey, State is null ? JNull.Instance : State.ToJson());
        result.Set(MetadataKey, Metadata.ToJson());
        if (withVersion)
        {
            result.Set(VersionKey, new JInteger(Version!.Value));
        }

        return result;
    }

    /// <summary>The delta (desired values that differ from reported) and its metadata, or null when there is none.</summary>
    public (JNode Delta, JNode? Metadata)? GetDelta()
    {
        var delta = State!.GetDelta();
        if (delta is null)
        {
            return null;
        }

        return (delta, Metadata.GetDeltaMetadata(delta));
    }

    /// <summary>
    /// A null state document: JSON null, or an object whose <c>state</c> member is JSON null (the shadow manager's
    /// isNullStateDocument).
    /// </summary>
    public static bool IsNullStateDocument(JNode? node) =>
        node is not null && (node.IsNull || (node.IsObject && node.Get(StateKey) is JNull));

    /// <summary>
    /// An empty state document: an empty object, or an object whose <c>state</c> member is one, recursively (the
    /// shadow manager's isEmptyStateDocument).
    /// </summary>
    public static bool IsEmptyStateDocument(JNode? node) =>
        node is not null && ((node.IsObject && node.Size == 0) || IsEmptyStateDocument(node.Get(StateKey)));
}

/// <summary>The desired and reported state of a shadow.</summary>
internal sealed class ShadowState
{
    public ShadowState(JNode? desired, JNode? reported)
    {
        Desired = JNode.NullIfEmpty(desired);
        Reported = JNode.NullIfEmpty(reported);
    }

    private ShadowState()
    {
    }

    public JNode? Desired { get; private set; }

    public JNode? Reported { get; private set; }

    public bool IsEmpty => JNode.IsNullOrMissing(Reported) && JNode.IsNullOrMissing(Desired);

    /// <summary>The state as read from a stored document (members as they are, not normalized).</summary>
    public static ShadowState FromStored(JNode? desired, JNode? reported) => new() { Desired = desired, Reported = reported };

    public ShadowState DeepCopy() => new(Desired?.DeepCopy(), Reported?.DeepCopy());

    /// <summary>
    /// Applies the <c>state</c> of an update request. A null state clears both; an empty one changes nothing; a
    /// missing (null or empty) <c>desired</c> or <c>reported</c> clears it; otherwise it is merged, null members
    /// deleting keys.
    /// </summary>
    /// <remarks>
    /// As in the shadow manager, a <c>desired</c> or <c>reported</c> given while there is none is taken as it is:
    /// null members in it are kept (only later merges delete keys).
    /// </remarks>
    public void Update(JNode? patch)
    {
        if (ShadowDocument.IsNullStateDocument(patch))
        {
            Desired = null;
            Reported = null;
            return;
        }

        if (ShadowDocument.IsEmptyStateDocument(patch) || patch is not JObject members)
        {
            return;
        }

        foreach (var (field, value) in members.Members)
        {
            if (field == ShadowDocument.DesiredKey)
            {
                Desired = Apply(Desired, value);
            }
            else if (field == ShadowDocument.ReportedKey)
            {
                Reported = Apply(Reported, value);
            }
        }
    }

    private static JNode? Apply(JNode? current, JNode value)
    {
        if (JNode.IsNullOrMissing(value))
        {
            return null;
        }

        if (current is null)
        {
            return JNode.NullIfEmpty(value);
        }

        ShadowMerge.Merge(current, value);
        return JNode.NullIfEmpty(current);
    }

    public JObject ToJson()
    {
        var result = new JObject();
        if (Desired is not null)
        {
            result.Set(ShadowDocument.DesiredKey, Desired);
        }

        if (Reported is not null)
        {
            result.Set(ShadowDocument.ReportedKey, Reported);
        }

        return result;
    }

    /// <summary>The state with its <c>delta</c> when there is one (what GetThingShadow answers).</summary>
    public JObject ToJsonWithDelta()
    {
        var state = ToJson();
        var delta = GetDelta();
        if (!JNode.IsNullOrMissing(delta))
        {
            state.Set(ShadowDocument.DeltaKey, delta);
        }

        return state;
    }

    /// <summary>Desired when nothing is reported; otherwise the desired values that differ from the reported ones.</summary>
    public JNode? GetDelta()
    {
        if (Desired is null)
        {
            return null;
        }

        return Reported is null ? Desired : ShadowMerge.CalculateDelta(Reported, Desired);
    }
}

/// <summary>The metadata of a shadow's state: the same shape, with <c>{"timestamp": epochSeconds}</c> for every value.</summary>
internal sealed class ShadowMetadata
{
    private const string ObjectNodeClass = "ObjectNode";
    private const string ArrayNodeClass = "ArrayNode";

    public ShadowMetadata(JNode? desired, JNode? reported)
    {
        Desired = JNode.NullIfEmpty(desired);
        Reported = JNode.NullIfEmpty(reported);
    }

    private ShadowMetadata()
    {
    }

    public JNode? Desired { get; private set; }

    public JNode? Reported { get; private set; }

    public static ShadowMetadata FromStored(JNode? desired, JNode? reported) => new() { Desired = desired, Reported = reported };

    public ShadowMetadata DeepCopy() => new(Desired?.DeepCopy(), Reported?.DeepCopy());

    /// <summary>
    /// Updates the metadata for an update's <paramref name="patch"/> (its <c>state</c>) now applied to
    /// <paramref name="state"/>, and returns the metadata of the patch.
    /// </summary>
    /// <remarks>
    /// As in the shadow manager: the metadata of a section is only touched when the patch's metadata for it is not
    /// empty (so an empty <c>desired</c>, which clears the state's desired, leaves its metadata); a value that becomes
    /// an array where its metadata is not one fails with a ClassCastException.
    /// </remarks>
    public JNode Update(JNode patch, ShadowState state, long timestamp)
    {
        var metadataPatch = CreateMetadataPatch(patch, timestamp);
        if (state.IsEmpty)
        {
            Desired = null;
            Reported = null;
            return metadataPatch;
        }

        var patchDesired = metadataPatch.Get(ShadowDocument.DesiredKey);
        if (!JNode.IsNullOrMissing(patchDesired))
        {
            Desired = JNode.NullIfEmpty(Merge(state.Desired, Desired, patchDesired!));
        }

        var patchReported = metadataPatch.Get(ShadowDocument.ReportedKey);
        if (!JNode.IsNullOrMissing(patchReported))
        {
            Reported = JNode.NullIfEmpty(Merge(state.Reported, Reported, patchReported!));
        }

        return metadataPatch;
    }

    private static JNode CreateMetadataPatch(JNode source, long timestamp)
    {
        if (source.IsValueNode)
        {
            var node = new JObject();
            node.Set(ShadowDocument.TimestampKey, new JInteger(timestamp));
            return node;
        }

        if (source is JArray array)
        {
            var result = new JArray();
            foreach (var element in array.Elements)
            {
                result.Add(CreateMetadataPatch(element, timestamp));
            }

            return result;
        }

        var obj = new JObject();
        foreach (var (field, value) in ((JObject)source).Members)
        {
            obj.Set(field, CreateMetadataPatch(value, timestamp));
        }

        return obj;
    }

    private static JNode? Merge(JNode? state, JNode? metadata, JNode patch)
    {
        if (JNode.IsNullOrMissing(state))
        {
            return null;
        }

        var mergeNode = metadata ?? new JObject();
        Merge(AsObject(state!), AsObject(mergeNode), AsObject(patch));
        return mergeNode;
    }

    private static void Merge(JObject state, JObject metadata, JObject patch)
    {
        foreach (var (field, patchField) in patch.Members)
        {
            var metadataField = metadata.Get(field);
            var stateField = state.Get(field);

            // Gone from the state: gone from the metadata.
            if (JNode.IsNullOrMissing(stateField))
            {
                metadata.Remove(field);
                continue;
            }

            // An array's metadata is replaced by the patch's.
            if (patchField is JArray patchArray)
            {
                JArray target;
                if (JNode.IsNullOrMissing(metadataField))
                {
                    target = new JArray();
                }
                else
                {
                    target = metadataField as JArray ?? throw ShadowJavaFailureException.ClassCast(metadataField!, ArrayNodeClass);
                    target.RemoveAll();
                }

                target.AddAll(patchArray);
                metadata.Set(field, target);
                continue;
            }

            if (JNode.IsNullOrMissing(metadataField))
            {
                metadataField = patchField.DeepCopy();
                metadata.Set(field, metadataField);
            }

            // The patch's kind wins (values, arrays and objects may replace each other).
            if (patchField.NodeType != metadataField!.NodeType)
            {
                metadataField = patchField.DeepCopy();
                metadata.Set(field, metadataField);
            }

            if (IsMetadataNode(patchField))
            {
                metadata.Set(field, patchField);
                continue;
            }

            if (IsMetadataNode(metadataField))
            {
                metadata.Set(field, patchField);
            }

            if (patchField.IsObject)
            {
                Merge(AsObject(stateField!), AsObject(metadataField), (JObject)patchField);
            }
        }
    }

    /// <summary>An object whose only member is an integral <c>timestamp</c>.</summary>
    public static bool IsMetadataNode(JNode node) =>
        node.IsObject && node.Size == 1 && node.Get(ShadowDocument.TimestampKey) is JNumber { IsIntegral: true };

    public JObject ToJson()
    {
        var result = new JObject();
        if (Desired is not null)
        {
            result.Set(ShadowDocument.DesiredKey, Desired);
        }

        if (Reported is not null)
        {
            result.Set(ShadowDocument.ReportedKey, Reported);
        }

        return result;
    }

    /// <summary>The metadata of a delta: the desired metadata of each of its values.</summary>
    public JNode? GetDeltaMetadata(JNode? delta) => JNode.IsNullOrMissing(delta) ? null : BuildMetadata(delta!, Desired);

    private static JNode? BuildMetadata(JNode delta, JNode? metadata)
    {
        if (delta.IsValueNode)
        {
            return metadata;
        }

        if (delta is JArray deltaArray)
        {
            var result = new JArray();
            var metadataArray = metadata is null or JArray ? (JArray?)metadata : throw ShadowJavaFailureException.ClassCast(metadata, ArrayNodeClass);
            for (var i = 0; i < deltaArray.Elements.Count; i++)
            {
                var child = deltaArray.Elements[i];
                var metadataChild = metadataArray is null
                    ? throw ShadowJavaFailureException.NullPointer("com.fasterxml.jackson.databind.node.ArrayNode.get(int)", "metadataArray")
                    : metadataArray.At(i);
                result.Add(BuildMetadata(child, metadataChild));
            }

            return result;
        }

        var obj = new JObject();
        var metadataObject = metadata is null or JObject ? (JObject?)metadata : throw ShadowJavaFailureException.ClassCast(metadata, ObjectNodeClass);
        foreach (var (field, value) in ((JObject)delta).Members)
        {
            var metadataField = metadataObject is null
                ? throw ShadowJavaFailureException.NullPointer("com.fasterxml.jackson.databind.node.ObjectNode.get(String)", "metadataObjectNode")
                : metadataObject.Get(field);
            obj.Set(field, BuildMetadata(value, metadataField));
        }

        return obj;
    }

    private static JObject AsObject(JNode node) => node as JObject ?? throw ShadowJavaFailureException.ClassCast(node, ObjectNodeClass);
}

/// <summary>The shadow manager's JsonMerger (merging a patch into a state) and its delta calculation.</summary>
internal static class ShadowMerge
{
    /// <summary>
    /// Merges <paramref name="patch"/> into <paramref name="source"/>: null (or empty-object) members delete keys,
    /// objects merge recursively, anything else (arrays included) replaces.
    /// </summary>
    public static void Merge(JNode source, JNode patch)
    {
        if (ShadowDocument.IsNullStateDocument(patch))
        {
            ClearState(source);
            return;
        }

        if (ShadowDocument.IsEmptyStateDocument(patch))
        {
            return;
        }

        if (source is JObject sourceObject && patch is JObject patchObject)
        {
            MergeObjects(sourceObject, patchObject);
            return;
        }

        if (source is JArray sourceArray && patch is JArray patchArray)
        {
            sourceArray.RemoveAll();
            sourceArray.AddAll(patchArray);
            return;
        }

        throw new ShadowRequestException(ShadowError.InvalidJson("Merge only works with Json objects whose underlying node are the same type."));
    }

    private static void MergeObjects(JObject source, JObject patch)
    {
        foreach (var (field, patchValue) in patch.Members)
        {
            var originalValue = source.Get(field);
            if (JNode.IsNullOrMissing(patchValue))
            {
                if (!JNode.IsNullOrMissing(originalValue))
                {
                    source.Remove(field);
                }

                continue;
            }

            if (JNode.IsNullOrMissing(originalValue))
            {
                if (patchValue is JObject patchChild)
                {
                    var child = CreateMergeTree(patchChild);
                    if (child is not null)
                    {
                        source.Set(field, child);
                    }
                }
                else
                {
                    source.Set(field, patchValue);
                }

                continue;
            }

            if (originalValue is JObject originalObject && patchValue is JObject patchObject)
            {
                MergeObjects(originalObject, patchObject);
                continue;
            }

            source.Set(field, patchValue);
        }
    }

    // A copy of the patch without its null members, and without the objects that only held nulls (null then).
    private static JObject? CreateMergeTree(JObject node)
    {
        var result = new JObject();
        var nullPresent = false;
        foreach (var (field, value) in node.Members)
        {
            if (JNode.IsNullOrMissing(value))
            {
                nullPresent = true;
                continue;
            }

            if (value is JObject child)
            {
                var merged = CreateMergeTree(child);
                if (merged is null)
                {
                    nullPresent = true;
                }
                else
                {
                    result.Set(field, merged);
                }

                continue;
            }

            result.Set(field, value);
        }

        return nullPresent && result.Size == 0 ? null : result;
    }

    private static void ClearState(JNode node)
    {
        if (node is not JObject obj)
        {
            return;
        }

        if (obj.Get(ShadowDocument.StateKey) is { } state)
        {
            ClearState(state);
            return;
        }

        obj.RemoveAll();
    }

    /// <summary>
    /// The desired values that differ from the reported ones: objects compare member by member (a desired member
    /// that is null while reported has it shows as null), numbers by value (1 and 1.0 are equal), anything else
    /// (arrays included) as a whole. Null when nothing differs.
    /// </summary>
    public static JNode? CalculateDelta(JNode reported, JNode desired)
    {
        if (reported is JObject r && desired is JObject d)
        {
            var result = DeltaOfObjects(r, d);
            return result.Size > 0 ? result : null;
        }

        if (reported is JNumber rn && desired is JNumber dn)
        {
            return rn.AsLong() == dn.AsLong() && rn.AsDouble() == dn.AsDouble() ? null : desired;
        }

        return !reported.JavaEquals(desired) ? desired : null;
    }

    private static JObject DeltaOfObjects(JObject original, JObject updated)
    {
        var result = new JObject();
        foreach (var (field, updatedValue) in updated.Members)
        {
            var originalValue = original.Get(field);
            if (JNode.IsNullOrMissing(updatedValue))
            {
                if (!JNode.IsNullOrMissing(originalValue))
                {
                    result.Set(field, null);
                }

                continue;
            }

            if (JNode.IsNullOrMissing(originalValue))
            {
                result.Set(field, updatedValue);
                continue;
            }

            var diff = CalculateDelta(originalValue!, updatedValue);
            if (diff is not null)
            {
                result.Set(field, diff);
            }
        }

        return result;
    }
}
