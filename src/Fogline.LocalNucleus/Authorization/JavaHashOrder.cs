namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// The iteration order of the Java hash collections the Nucleus keeps authorization state in. The Nucleus's resource
/// matcher (WildcardTrie) keeps the children of each node in a ConcurrentHashMap and, under a <c>*</c> or <c>+</c>,
/// collects the candidate continuations in a HashMap keyed by the rest of the resource, so that when two children
/// leave the same rest, the child iterated last wins. Which one that is depends on Java's iteration order, which is
/// deterministic given the keys and the order they were inserted in. Policies' operations and resources are Java
/// HashSets, so the order resources are added to a trie (and thus the trie's insertion order) is that of a HashSet.
/// This reproduces both orders for strings (Java's <c>String.hashCode</c> over UTF-16 code units, as .NET strings are).
/// Only used when policies are (re)loaded, never on a lookup.
/// </summary>
internal static class JavaHashOrder
{
    private const int DefaultCapacity = 16;
    private const int TreeifyThreshold = 8;
    private const int MinTreeifyCapacity = 64;
    private const int MaximumCapacity = 1 << 30;

    /// <summary>Java's <c>String.hashCode()</c>.</summary>
    public static int StringHashCode(string value)
    {
        var h = 0;
        foreach (var c in value)
        {
            h = unchecked((31 * h) + c);
        }

        return h;
    }

    /// <summary>
    /// The order a <c>java.util.HashSet&lt;String&gt;</c> iterates after adding <paramref name="values"/> in order
    /// (duplicates dropped). Bins of more than eight colliding strings in a table of 64 or more (which Java turns into
    /// red-black trees) are kept in insertion order: that is the one case not reproduced. A null value (which a
    /// HashSet holds like any other, with hash 0) is allowed.
    /// </summary>
    public static List<string?> HashSetOrder(IEnumerable<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        List<Entry>[]? table = null;
        var size = 0;
        var threshold = 0;
        var seen = new HashSet<string?>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!seen.Add(value))
            {
                continue;
            }

            var h = value is null ? 0 : StringHashCode(value);
            var hash = h ^ (int)((uint)h >> 16);
            if (table is null)
            {
                table = NewTable(DefaultCapacity);
                threshold = (int)(DefaultCapacity * 0.75f);
            }

            var bin = table[hash & (table.Length - 1)];
            var existing = bin.Count;
            bin.Add(new Entry(hash, value));
            if (existing >= TreeifyThreshold && table.Length < MinTreeifyCapacity)
            {
                // treeifyBin on a small table resizes instead.
                table = HashMapResize(table, ref threshold);
            }

            if (++size > threshold)
            {
                table = HashMapResize(table, ref threshold);
            }
        }

        return table is null ? [] : [.. table.SelectMany(b => b).Select(e => e.Key)];
    }

    /// <summary>
    /// The order a <c>java.util.concurrent.ConcurrentHashMap&lt;String, V&gt;</c> (default constructor, one thread)
    /// iterates after <c>computeIfAbsent</c> was called with <paramref name="accesses"/> in order. Lookups of keys
    /// already there count too: finding a key deep in a bin makes the map grow (or turn the bin into a tree) just as
    /// inserting there does. Returns the distinct keys in iteration order.
    /// </summary>
    public static List<string> ConcurrentHashMapOrder(IEnumerable<string> accesses)
    {
        ArgumentNullException.ThrowIfNull(accesses);
        Bin[]? table = null;
        var sizeCtl = 0;
        long count = 0;
        foreach (var key in accesses)
        {
            if (table is null)
            {
                table = NewBins(DefaultCapacity);
                sizeCtl = DefaultCapacity - (DefaultCapacity >> 2);
            }

            var h = StringHashCode(key);
            var hash = (h ^ (int)((uint)h >> 16)) & 0x7fffffff;
            var index = hash & (table.Length - 1);
            var bin = table[index];
            var position = bin.Nodes.FindIndex(e => e.Key == key);
            int binCount;
            var added = false;
            if (bin.Nodes.Count == 0)
            {
                bin.Nodes.Add(new Entry(hash, key));
                binCount = 1;
                added = true;
            }
            else if (position == 0)
            {
                // Found as the first node, without locking the bin: nothing else happens.
                continue;
            }
            else if (bin.IsTree)
            {
                if (position < 0)
                {
                    // TreeBin.putTreeVal links a new node in front of the bin's list.
                    bin.Nodes.Insert(0, new Entry(hash, key));
                    added = true;
                }

                binCount = 2;
            }
            else if (position > 0)
            {
                binCount = position + 1;
            }
            else
            {
                binCount = bin.Nodes.Count;
                bin.Nodes.Add(new Entry(hash, key));
                added = true;
            }

            if (binCount >= TreeifyThreshold)
            {
                if (table.Length < MinTreeifyCapacity)
                {
                    table = TryPresize(table, table.Length << 1, ref sizeCtl);
                }
                else
                {
                    table[index].IsTree = true;
                }
            }

            if (!added)
            {
                continue;
            }

            count++;
            while (count >= sizeCtl && table.Length < MaximumCapacity)
            {
                table = Transfer(table, ref sizeCtl);
            }
        }

        return table is null ? [] : [.. table.SelectMany(b => b.Nodes).Select(e => e.Key!)];
    }

    private static List<Entry>[] NewTable(int capacity)
    {
        var table = new List<Entry>[capacity];
        for (var i = 0; i < capacity; i++)
        {
            table[i] = [];
        }

        return table;
    }

    private static Bin[] NewBins(int capacity)
    {
        var table = new Bin[capacity];
        for (var i = 0; i < capacity; i++)
        {
            table[i] = new Bin();
        }

        return table;
    }

    // HashMap.resize: each bin splits into a low and a high list, both keeping their relative order.
    private static List<Entry>[] HashMapResize(List<Entry>[] table, ref int threshold)
    {
        var n = table.Length;
        var next = NewTable(n << 1);
        for (var i = 0; i < n; i++)
        {
            foreach (var e in table[i])
            {
                next[(e.Hash & n) == 0 ? i : i + n].Add(e);
            }
        }

        threshold <<= 1;
        return next;
    }

    // ConcurrentHashMap.tryPresize as treeifyBin calls it: grows until the wanted capacity fits under sizeCtl.
    private static Bin[] TryPresize(Bin[] table, int size, ref int sizeCtl)
    {
        var c = size >= (MaximumCapacity >> 1) ? MaximumCapacity : TableSizeFor(size + (size >> 1) + 1);
        while (c > sizeCtl && table.Length < MaximumCapacity)
        {
            table = Transfer(table, ref sizeCtl);
        }

        return table;
    }

    private static int TableSizeFor(int c)
    {
        var n = -1 >>> System.Numerics.BitOperations.LeadingZeroCount((uint)(c - 1));
        return n < 0 ? 1 : n >= MaximumCapacity ? MaximumCapacity : n + 1;
    }

    // ConcurrentHashMap.transfer on one thread. A list bin is split at its "last run" (the longest tail whose nodes
    // all go the same way, kept as is); the nodes before it are pushed in front of their new list one by one, which
    // reverses them. A tree bin is split keeping its order, and stays a tree only with more than six nodes.
    private static Bin[] Transfer(Bin[] table, ref int sizeCtl)
    {
        var n = table.Length;
        var next = NewBins(n << 1);
        for (var i = n - 1; i >= 0; i--)
        {
            var bin = table[i];
            if (bin.Nodes.Count == 0)
            {
                continue;
            }

            var low = next[i];
            var high = next[i + n];
            if (bin.IsTree)
            {
                foreach (var e in bin.Nodes)
                {
                    ((e.Hash & n) == 0 ? low : high).Nodes.Add(e);
                }

                low.IsTree = low.Nodes.Count > 6;
                high.IsTree = high.Nodes.Count > 6;
                continue;
            }

            var nodes = bin.Nodes;
            var lastRun = 0;
            var runBit = nodes[0].Hash & n;
            for (var p = 1; p < nodes.Count; p++)
            {
                var b = nodes[p].Hash & n;
                if (b != runBit)
                {
                    runBit = b;
                    lastRun = p;
                }
            }

            var tail = nodes.GetRange(lastRun, nodes.Count - lastRun);
            List<Entry> lowList = runBit == 0 ? [.. tail] : [];
            List<Entry> highList = runBit == 0 ? [] : [.. tail];
            for (var p = 0; p < lastRun; p++)
            {
                if ((nodes[p].Hash & n) == 0)
                {
                    lowList.Insert(0, nodes[p]);
                }
                else
                {
                    highList.Insert(0, nodes[p]);
                }
            }

            low.Nodes.AddRange(lowList);
            high.Nodes.AddRange(highList);
        }

        sizeCtl = (n << 1) - (n >>> 1);
        return next;
    }

    private readonly record struct Entry(int Hash, string? Key);

    private sealed class Bin
    {
        public List<Entry> Nodes { get; } = [];

        public bool IsTree { get; set; }
    }
}
