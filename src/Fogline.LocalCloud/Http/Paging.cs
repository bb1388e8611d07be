using System.Globalization;
using System.Text;

namespace Fogline.LocalCloud.Http;

/// <summary>Pages of a list answered with an opaque <c>nextToken</c> (the offset of the next page), as every list API here pages.</summary>
internal static class Paging
{
    /// <summary>One page of <paramref name="items"/> and the token of the next (null on the last page).</summary>
    /// <param name="items">The whole list, in its order.</param>
    /// <param name="maxResults">The caller's page size, if any.</param>
    /// <param name="nextToken">The caller's token, if any.</param>
    /// <param name="defaultSize">The page size when none is asked for.</param>
    /// <param name="maxSize">The largest page size the service allows.</param>
    /// <param name="invalid">The service's validation error for a member and a message.</param>
    public static (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> items, int? maxResults, string? nextToken, int defaultSize, int maxSize, Func<string, string, Exception> invalid)
    {
        var size = maxResults ?? defaultSize;
        if (size < 1 || size > maxSize)
        {
            throw invalid("maxResults", string.Create(CultureInfo.InvariantCulture, $"maxResults must be between 1 and {maxSize}, not {size}."));
        }

        var start = 0;
        if (!string.IsNullOrEmpty(nextToken))
        {
            try
            {
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(nextToken));
                start = text.StartsWith("offset:", StringComparison.Ordinal) ? int.Parse(text[7..], CultureInfo.InvariantCulture) : -1;
            }
            catch (FormatException)
            {
                start = -1;
            }

            if (start < 0 || start > items.Count)
            {
                throw invalid("nextToken", "The nextToken is not one this service gave.");
            }
        }

        var page = items.Skip(start).Take(size).ToList();
        var end = start + page.Count;
        return (page, end < items.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes("offset:" + end.ToString(CultureInfo.InvariantCulture))) : null);
    }
}
