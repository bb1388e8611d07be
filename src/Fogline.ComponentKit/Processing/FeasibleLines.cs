namespace Fogline.ComponentKit.Processing;

/// <summary>
/// The set of straight lines <c>v(t) = A + B·(t − Origin)</c> that pass through a series of vertical bands
/// <c>lo ≤ v(t) ≤ hi</c>: a convex polygon in the (A, B) plane, clipped by two half-planes per band. It is kept
/// exactly (no bounding box to start from): the first band must be at <see cref="Origin"/>, which bounds A; the first
/// band at another time bounds B and makes the polygon a parallelogram; every later band clips it. A band that would
/// leave no line is refused and leaves the set as it was. Allocates only when the polygon has more vertices than ever
/// before (rare: a handful in practice); not thread-safe.
/// </summary>
/// <remarks>
/// Times are taken relative to <see cref="Origin"/> (the start of a run), so slopes and intercepts stay of the size of
/// the data whatever the epoch. The polygon can be degenerate (a segment or a point: a fixed start value, a zero
/// bound) and the clipping handles that.
/// </remarks>
public sealed class FeasibleLines
{
    private double[] _a = new double[16];
    private double[] _b = new double[16];
    private double[] _clipA = new double[16];
    private double[] _clipB = new double[16];
    private double[] _nextA = new double[16];
    private double[] _nextB = new double[16];
    private int _count;
    private bool _slopeBounded;
    private double _aLo;
    private double _aHi;

    /// <summary>The time the intercept A is taken at.</summary>
    public double Origin { get; private set; }

    /// <summary>Starts a new set: the lines whose value at <paramref name="origin"/> lies within [lo, hi].</summary>
    public void Reset(double origin, double lo, double hi)
    {
        if (!(lo <= hi))
        {
            throw new ArgumentException($"The band [{lo}, {hi}] is empty.", nameof(lo));
        }

        Origin = origin;
        _aLo = lo;
        _aHi = hi;
        _slopeBounded = false;
        _count = 0;
    }

    /// <summary>
    /// Keeps only the lines within [lo, hi] at time <paramref name="t"/>. Returns false, and changes nothing, when no
    /// line of the set passes through the band.
    /// </summary>
    public bool Add(double t, double lo, double hi)
    {
        var d = t - Origin;
        if (!_slopeBounded)
        {
            if (d == 0)
            {
                var nlo = Math.Max(_aLo, lo);
                var nhi = Math.Min(_aHi, hi);
                if (nlo > nhi)
                {
                    return false;
                }

                _aLo = nlo;
                _aHi = nhi;
                return true;
            }

            // The first band away from the origin: the lines through a point of each band, a parallelogram (a segment
            // or a point when a band is a point). Any two bands at different times admit a line, so this never fails.
            _count = 0;
            Ensure(ref _a, ref _b, 4);
            Push(_aLo, (lo - _aLo) / d);
            Push(_aLo, (hi - _aLo) / d);
            Push(_aHi, (hi - _aHi) / d);
            Push(_aHi, (lo - _aHi) / d);
            _slopeBounded = true;
            return true;
        }

        // Both half-planes are clipped into scratch buffers, and the result swapped in only when something is left.
        Ensure(ref _clipA, ref _clipB, _count + 2);
        var n = Clip(_a, _b, _count, _clipA, _clipB, d, hi, 1);
        if (n == 0)
        {
            return false;
        }

        Ensure(ref _nextA, ref _nextB, n + 2);
        var m = Clip(_clipA, _clipB, n, _nextA, _nextB, d, lo, -1);
        if (m == 0)
        {
            return false;
        }

        (_a, _nextA) = (_nextA, _a);
        (_b, _nextB) = (_nextB, _b);
        _count = m;
        return true;
    }

    /// <summary>The lowest and highest value the lines of the set take at <paramref name="t"/>.</summary>
    public (double Min, double Max) ValueRange(double t)
    {
        var d = t - Origin;
        if (!_slopeBounded)
        {
            // Only the value at the origin is bounded; ranges are asked for at the last band's time, which is then the
            // origin.
            return d == 0 ? (_aLo, _aHi) : (double.NegativeInfinity, double.PositiveInfinity);
        }

        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        for (var i = 0; i < _count; i++)
        {
            var v = _a[i] + (_b[i] * d);
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return (min, max);
    }

    /// <summary>
    /// The two ends of the chord of lines of the set that take the value <paramref name="v"/> at <paramref name="t"/>
    /// (each as intercept at the origin and slope). When rounding puts <paramref name="v"/> just outside the set, the
    /// nearest vertex's line, moved to pass through the value, is both ends.
    /// </summary>
    public ((double A, double B) P, (double A, double B) Q) Chord(double t, double v)
    {
        var d = t - Origin;
        if (!_slopeBounded)
        {
            return d == 0 ? ((v, 0), (v, 0)) : ((_aLo, (v - _aLo) / d), (_aHi, (v - _aHi) / d));
        }

        var found = 0;
        (double A, double B) p = default, q = default;
        var nearest = 0;
        var nearestGap = double.PositiveInfinity;
        for (var i = 0; i < _count; i++)
        {
            var j = i + 1 == _count ? 0 : i + 1;
            var gi = _a[i] + (_b[i] * d) - v;
            var gj = _a[j] + (_b[j] * d) - v;
            if (Math.Abs(gi) < nearestGap)
            {
                nearestGap = Math.Abs(gi);
                nearest = i;
            }

            (double A, double B) hit;
            if (gi == 0)
            {
                hit = (_a[i], _b[i]);
            }
            else if ((gi < 0 && gj > 0) || (gi > 0 && gj < 0))
            {
                var s = gi / (gi - gj);
                hit = (_a[i] + (s * (_a[j] - _a[i])), _b[i] + (s * (_b[j] - _b[i])));
            }
            else
            {
                continue;
            }

            if (found++ == 0)
            {
                p = hit;
                q = hit;
            }
            else if (Math.Abs(hit.A - p.A) + Math.Abs(hit.B - p.B) > Math.Abs(q.A - p.A) + Math.Abs(q.B - p.B))
            {
                q = hit;
            }
        }

        if (found == 0)
        {
            var moved = (v - (_b[nearest] * d), _b[nearest]);
            return (moved, moved);
        }

        return (p, q);
    }

    /// <summary>A line of the set: the mean of the polygon's vertices (inside it, by convexity).</summary>
    public (double A, double B) Center()
    {
        if (!_slopeBounded)
        {
            return ((_aLo + _aHi) / 2, 0);
        }

        double sa = 0, sb = 0;
        for (var i = 0; i < _count; i++)
        {
            sa += _a[i];
            sb += _b[i];
        }

        return (sa / _count, sb / _count);
    }

    private void Push(double a, double b)
    {
        if (_count > 0 && _a[_count - 1] == a && _b[_count - 1] == b)
        {
            return;
        }

        _a[_count] = a;
        _b[_count] = b;
        _count++;
    }

    /// <summary>
    /// Sutherland–Hodgman against one half-plane: sign·(A + B·d − bound) ≤ 0. Writes the clipped polygon (consecutive
    /// duplicates dropped) into the destination and returns its vertex count; 0 when nothing is inside.
    /// </summary>
    private static int Clip(double[] a, double[] b, int count, double[] ra, double[] rb, double d, double bound, int sign)
    {
        var n = 0;
        for (var i = 0; i < count; i++)
        {
            var j = i + 1 == count ? 0 : i + 1;
            var fi = sign * (a[i] + (b[i] * d) - bound);
            var fj = sign * (a[j] + (b[j] * d) - bound);
            if (fi <= 0)
            {
                Emit(ra, rb, ref n, a[i], b[i]);
            }

            if ((fi < 0 && fj > 0) || (fi > 0 && fj < 0))
            {
                var s = fi / (fi - fj);
                Emit(ra, rb, ref n, a[i] + (s * (a[j] - a[i])), b[i] + (s * (b[j] - b[i])));
            }
        }

        if (n > 1 && ra[n - 1] == ra[0] && rb[n - 1] == rb[0])
        {
            n--;
        }

        return n;
    }

    private static void Emit(double[] ra, double[] rb, ref int n, double a, double b)
    {
        if (n > 0 && ra[n - 1] == a && rb[n - 1] == b)
        {
            return;
        }

        ra[n] = a;
        rb[n] = b;
        n++;
    }

    private static void Ensure(ref double[] a, ref double[] b, int size)
    {
        if (a.Length < size)
        {
            var grown = Math.Max(size, a.Length * 2);
            Array.Resize(ref a, grown);
            Array.Resize(ref b, grown);
        }
    }
}
