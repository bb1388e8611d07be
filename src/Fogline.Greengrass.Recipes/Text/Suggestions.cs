namespace Fogline.Greengrass.Recipes.Text;

/// <summary>"Did you mean" for misspelt keys and values.</summary>
internal static class Suggestions
{
    /// <summary>
    /// The candidate closest to <paramref name="word"/> (case-insensitive edit distance with transpositions, at most a
    /// quarter of the candidate's length, at least 1), or a candidate that ends with the word (<c>Version</c> →
    /// <c>ComponentVersion</c>); null when nothing is close.
    /// </summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var lower = word.ToLowerInvariant();
        foreach (var candidate in candidates)
        {
            var distance = Distance(lower, candidate.ToLowerInvariant());
            if (distance <= Math.Max(1, candidate.Length / 4) && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        if (best is null && word.Length >= 4)
        {
            best = candidates.FirstOrDefault(c => c.EndsWith(word, StringComparison.OrdinalIgnoreCase));
        }

        return best;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
