using System.Text;

namespace Fogline.Codegen.CSharp;

/// <summary>Indented text output with LF line endings, so generated files are byte-identical on every platform.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length == 0)
        {
            _sb.Append('\n');
            return this;
        }

        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        return this;
    }

    public CodeWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Open(string text, string initializer)
    {
        Line(text);
        Line("    " + initializer);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public CodeWriter Doc(string? summary, params (string Tag, string Text)[] extra)
    {
        if (!string.IsNullOrWhiteSpace(summary))
        {
            var lines = summary.Split('\n');
            if (lines.Length == 1)
            {
                Line($"/// <summary>{lines[0].Trim()}</summary>");
            }
            else
            {
                Line("/// <summary>");
                foreach (var line in lines)
                {
                    Line("/// " + line.Trim());
                }

                Line("/// </summary>");
            }
        }

        foreach (var (tag, text) in extra)
        {
            Line($"/// <{tag}>{text}</{tag.Split(' ')[0]}>");
        }

        return this;
    }

    public static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    public override string ToString() => _sb.ToString();
}
