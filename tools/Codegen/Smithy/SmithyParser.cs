using System.Globalization;
using System.Text;

namespace Fogline.Codegen.Smithy;

/// <summary>
/// A parser for the part of the Smithy 1.0 IDL that service models such as the Greengrass IPC model use: a namespace,
/// shape statements (service, operation, structure, union, list, map, simple shapes), traits with node values, and
/// <c>///</c> documentation comments. Errors name the line.
/// </summary>
internal sealed class SmithyParser
{
    private readonly List<Token> _tokens;
    private int _pos;

    private SmithyParser(string text)
    {
        _tokens = Tokenize(text);
    }

    public static SmithyModel Parse(string text) => new SmithyParser(text).ParseModel();

    private enum TokenKind
    {
        Identifier,
        String,
        Number,
        Punctuation,
        DocComment,
        End,
    }

    private SmithyModel ParseModel()
    {
        string? ns = null;
        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
        while (Peek().Kind != TokenKind.End)
        {
            var doc = ReadDocComments();
            var traits = ReadTraits(ref doc);
            var keyword = Expect(TokenKind.Identifier);
            switch (keyword.Text)
            {
                case "namespace":
                    ns = ReadShapeId().Text;
                    continue;
                case "metadata":
                    Expect(TokenKind.Identifier);
                    ExpectPunct("=");
                    ReadNode();
                    continue;
                case "use":
                    ReadShapeId();
                    continue;
            }

            var kind = keyword.Text switch
            {
                "service" => ShapeKind.Service,
                "operation" => ShapeKind.Operation,
                "structure" => ShapeKind.Structure,
                "union" => ShapeKind.Union,
                "list" or "set" => ShapeKind.List,
                "map" => ShapeKind.Map,
                "string" => ShapeKind.String,
                "integer" => ShapeKind.Integer,
                "long" => ShapeKind.Long,
                "double" or "float" => ShapeKind.Double,
                "boolean" => ShapeKind.Boolean,
                "blob" => ShapeKind.Blob,
                "timestamp" => ShapeKind.Timestamp,
                "document" => ShapeKind.Document,
                _ => throw new SmithyException($"unknown statement '{keyword.Text}'", keyword.Line),
            };
            var name = Expect(TokenKind.Identifier);
            var shape = new Shape { Name = name.Text, Kind = kind, Traits = traits, Documentation = doc, Line = name.Line };
            switch (kind)
            {
                case ShapeKind.Service:
                case ShapeKind.Operation:
                    foreach (var (key, value) in ReadObject().Members)
                    {
                        shape.Properties[key] = value;
                    }

                    break;
                case ShapeKind.Structure:
                case ShapeKind.Union:
                case ShapeKind.List:
                case ShapeKind.Map:
                    ReadMembers(shape);
                    break;
                default:
                    break;
            }

            if (!shapes.TryAdd(shape.Name, shape))
            {
                throw new SmithyException($"shape '{shape.Name}' is defined twice", name.Line);
            }
        }

        return new SmithyModel
        {
            Namespace = ns ?? throw new SmithyException("the model has no namespace statement"),
            Shapes = shapes,
        };
    }

    private void ReadMembers(Shape shape)
    {
        ExpectPunct("{");
        while (!TryPunct("}"))
        {
            var doc = ReadDocComments();
            var traits = ReadTraits(ref doc);
            var name = Expect(TokenKind.Identifier);
            ExpectPunct(":");
            var target = ReadShapeId();
            shape.Members.Add(new Member(name.Text, target.Text, traits, doc, name.Line));
            TryPunct(",");
        }
    }

    private string? ReadDocComments()
    {
        StringBuilder? doc = null;
        while (Peek().Kind == TokenKind.DocComment)
        {
            var text = Next().Text;
            if (doc is null)
            {
                doc = new StringBuilder(text);
            }
            else
            {
                doc.Append('\n').Append(text);
            }
        }

        return doc?.ToString();
    }

    private Traits ReadTraits(ref string? doc)
    {
        var traits = new Traits();
        while (true)
        {
            var more = ReadDocComments();
            if (more is not null)
            {
                doc = doc is null ? more : doc + "\n" + more;
            }

            if (!TryPunct("@"))
            {
                return traits;
            }

            var name = ReadShapeId();
            Node? value = null;
            if (TryPunct("("))
            {
                if (TryPunct(")"))
                {
                    value = new ObjectNode(new Dictionary<string, Node>());
                }
                else if (Peek().Kind is TokenKind.Identifier or TokenKind.String && PeekAt(1) is { Kind: TokenKind.Punctuation, Text: ":" })
                {
                    // Structured trait arguments without braces: @range(min: 1, max: 100)
                    var members = new Dictionary<string, Node>(StringComparer.Ordinal);
                    do
                    {
                        var key = Next();
                        ExpectPunct(":");
                        members[key.Text] = ReadNode();
                    }
                    while (TryPunct(",") && !(Peek() is { Kind: TokenKind.Punctuation, Text: ")" }));
                    ExpectPunct(")");
                    value = new ObjectNode(members);
                }
                else
                {
                    value = ReadNode();
                    ExpectPunct(")");
                }
            }

            traits.Add(name.Text, value, name.Line);
        }
    }

    private Node ReadNode()
    {
        var token = Peek();
        switch (token.Kind)
        {
            case TokenKind.String:
                Next();
                return new StringNode(token.Text);
            case TokenKind.Number:
                Next();
                return new NumberNode(decimal.Parse(token.Text, CultureInfo.InvariantCulture));
            case TokenKind.Identifier:
                Next();
                return token.Text switch
                {
                    "true" => new BooleanNode(true),
                    "false" => new BooleanNode(false),
                    "null" => new NullNode(),
                    _ => new IdentifierNode(token.Text),
                };
            case TokenKind.Punctuation when token.Text == "[":
                {
                    Next();
                    var items = new List<Node>();
                    while (!TryPunct("]"))
                    {
                        items.Add(ReadNode());
                        TryPunct(",");
                    }

                    return new ListNode(items);
                }

            case TokenKind.Punctuation when token.Text == "{":
                return ReadObject();
            default:
                throw new SmithyException($"expected a value, found '{token.Text}'", token.Line);
        }
    }

    private ObjectNode ReadObject()
    {
        ExpectPunct("{");
        var members = new Dictionary<string, Node>(StringComparer.Ordinal);
        while (!TryPunct("}"))
        {
            var key = Next();
            if (key.Kind is not (TokenKind.Identifier or TokenKind.String))
            {
                throw new SmithyException($"expected an object key, found '{key.Text}'", key.Line);
            }

            ExpectPunct(":");
            if (!members.TryAdd(key.Text, ReadNode()))
            {
                throw new SmithyException($"key '{key.Text}' appears twice", key.Line);
            }

            TryPunct(",");
        }

        return new ObjectNode(members);
    }

    private Token ReadShapeId() => Expect(TokenKind.Identifier);

    private Token Peek() => _tokens[_pos];

    private Token PeekAt(int offset) => _tokens[Math.Min(_pos + offset, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private Token Expect(TokenKind kind)
    {
        var token = Next();
        return token.Kind == kind ? token : throw new SmithyException($"expected {kind}, found '{token.Text}'", token.Line);
    }

    private void ExpectPunct(string text)
    {
        var token = Next();
        if (token.Kind != TokenKind.Punctuation || token.Text != text)
        {
            throw new SmithyException($"expected '{text}', found '{token.Text}'", token.Line);
        }
    }

    private bool TryPunct(string text)
    {
        var token = Peek();
        if (token.Kind == TokenKind.Punctuation && token.Text == text)
        {
            _pos++;
            return true;
        }

        return false;
    }

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var line = 1;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                var end = text.IndexOf('\n', i);
                if (end < 0)
                {
                    end = text.Length;
                }

                if (i + 2 < text.Length && text[i + 2] == '/')
                {
                    tokens.Add(new Token(TokenKind.DocComment, text[(i + 3)..end].Trim(), line));
                }

                i = end;
            }
            else if (c == '"')
            {
                var sb = new StringBuilder();
                var start = line;
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new SmithyException("unterminated string", start);
                    }

                    var ch = text[i++];
                    if (ch == '"')
                    {
                        break;
                    }

                    if (ch == '\n')
                    {
                        line++;
                    }

                    if (ch == '\\' && i < text.Length)
                    {
                        var esc = text[i++];
                        sb.Append(esc switch
                        {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            _ => esc,
                        });
                        continue;
                    }

                    sb.Append(ch);
                }

                tokens.Add(new Token(TokenKind.String, sb.ToString(), start));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '.' or '#' or '$'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], line));
            }
            else if (char.IsDigit(c) || (c == '-' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                var start = i++;
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] is '.' or 'e' or 'E' or '+' or '-'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Number, text[start..i], line));
            }
            else if ("{}[]():,@=".Contains(c, StringComparison.Ordinal))
            {
                tokens.Add(new Token(TokenKind.Punctuation, c.ToString(), line));
                i++;
            }
            else
            {
                throw new SmithyException($"unexpected character '{c}'", line);
            }
        }

        tokens.Add(new Token(TokenKind.End, "(end of file)", line));
        return tokens;
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Line);
}
