namespace Fogline.Greengrass.Ipc;

/// <summary>Helpers the generated validation uses.</summary>
public static class IpcValidation
{
    /// <summary>Whether every shape of the list has its required members.</summary>
    public static bool AllComplete<T>(IReadOnlyList<T> items)
        where T : IIpcShape
    {
        ArgumentNullException.ThrowIfNull(items);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null || !items[i].HasAllRequiredMembers())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether every shape of the map has its required members.</summary>
    public static bool AllComplete<T>(IReadOnlyDictionary<string, T> items)
        where T : IIpcShape
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items.Values)
        {
            if (item is null || !item.HasAllRequiredMembers())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the missing members when <paramref name="shape"/> is incomplete.</summary>
    public static void ThrowIfIncomplete(IIpcShape shape, string shapeId, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(shape, parameterName);
        if (!shape.HasAllRequiredMembers())
        {
            throw new ArgumentException($"{shapeId} is missing required members: {string.Join(", ", shape.MissingRequiredMembers())}.", parameterName);
        }
    }
}
