namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>The test's own Smithy reader on the constructs of the official model that are easy to misread.</summary>
public class SmithyTestModelTests
{
    private const string Sample = """
        // a comment: structure NotAShape { x: String }
        namespace aws.sample

        /// Doc of the service // with slashes
        service Svc {
            version: "1",
            operations: [
                OpA,
                OpB
            ]
        }

        operation OpA { input: AReq, output: AResp, errors: [BadError,
                 OtherError] }

        operation OpB {
            input:  AReq,
            output:  BResp,
            errors: []
         }

        structure AReq {
            // None of the members are required by themselves
            /// Documented, required, deprecated.
            @required
            @deprecated(message: "No longer used, url: http://x")
            first: String,
            @range(min: 1, max: 100)
            second: Integer,
            third: smithy.api#Timestamp,
        }

        @documentation("Contextual information.\nNOTE { not a body }")
        structure AResp { }

        structure BResp {
            messages: Events
        }

        @streaming
        union Events{
            one: AResp,
            two: Names
        }

         list Names{
            member: Kind
         }

         map Table {
            key: String,
            value: AReq
         }

        @enum([
            {
                value: "0",
                name: "AT_MOST_ONCE",
            },
            {
                name: "UTF8",
                value:"1"
            }
        ])
        string Kind

        @error("client")
        structure BadError { message: String }

        @error( "server" )
        structure OtherError {
            message: String,
            context: Document
        }
        """;

    [Test]
    public void ReadsServiceOperationsShapesTraitsMembersAndEnums()
    {
        var model = SmithyTestModel.Parse(Sample);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(model.Namespace, Is.EqualTo("aws.sample"));
            Assert.That(model.Service.Name, Is.EqualTo("Svc"));
            Assert.That(model.Service.References, Is.EqualTo(new[] { "OpA", "OpB" }));
            Assert.That(model.Shapes.Keys, Is.EquivalentTo(new[] { "Svc", "OpA", "OpB", "AReq", "AResp", "BResp", "Events", "Names", "Table", "Kind", "BadError", "OtherError" }));

            var opA = model.Resolve("OpA");
            Assert.That((opA.Input, opA.Output), Is.EqualTo(("AReq", "AResp")));
            Assert.That(opA.References, Is.EqualTo(new[] { "BadError", "OtherError" }));
            Assert.That(model.Resolve("OpB").References, Is.Empty);

            var req = model.Resolve("AReq");
            Assert.That(req.Members.Select(m => (m.Name, m.Target, m.Required)), Is.EqualTo(new[]
            {
                ("first", "String", true),
                ("second", "Integer", false),
                ("third", "smithy.api#Timestamp", false),
            }));
            Assert.That(model.Normalize("smithy.api#Timestamp"), Is.EqualTo("Timestamp"));
            Assert.That(model.IsPrelude("smithy.api#Timestamp"), Is.True);

            Assert.That(model.Resolve("AResp").Members, Is.Empty);
            Assert.That(model.Resolve("AResp").Traits, Does.Contain("documentation"));
            Assert.That(model.Resolve("Events").IsUnion && model.Resolve("Events").IsStreaming, Is.True);
            Assert.That(model.Resolve("Events").Members.Select(m => m.Name), Is.EqualTo(new[] { "one", "two" }));
            Assert.That(model.Resolve("Names").Members.Single().Target, Is.EqualTo("Kind"));
            Assert.That(model.Resolve("Table").Members.Select(m => (m.Name, m.Target)), Is.EqualTo(new[] { ("key", "String"), ("value", "AReq") }));

            var kind = model.Resolve("Kind");
            Assert.That(kind.IsEnum, Is.True);
            Assert.That(kind.EnumValues, Is.EqualTo(new[] { new ModelEnumValue("AT_MOST_ONCE", "0"), new ModelEnumValue("UTF8", "1") }));

            Assert.That(model.Resolve("BadError").ErrorKind, Is.EqualTo("client"));
            Assert.That(model.Resolve("OtherError").ErrorKind, Is.EqualTo("server"));
            Assert.That(model.Resolve("AReq").ErrorKind, Is.Null);
            Assert.That(model.EventOf(model.Resolve("OpB"))?.Name, Is.EqualTo("Events"));
            Assert.That(model.EventOf(opA), Is.Null);
        }
    }

    [Test]
    public void MemberLines_PointIntoTheFile()
    {
        var model = SmithyTestModel.Parse(Sample);
        var lines = Sample.Split('\n');

        foreach (var shape in model.Shapes.Values)
        {
            foreach (var member in shape.Members)
            {
                Assert.That(lines[member.Line - 1], Does.Contain(member.Name + ":"), $"{shape.Name}.{member.Name} line {member.Line}");
            }
        }
    }
}
