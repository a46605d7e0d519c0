using System.Text.Json;
using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class SearchSpaceJsonTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Deserialize_FloatSpaceJson_GivesFloatParameter()
    {
        const string json = """{"parameters":[{"type":"float","name":"lr","low":0.0001,"high":0.1,"log":true}]}""";

        var space = JsonSerializer.Deserialize<SearchSpace>(json, Web);

        Assert.NotNull(space);
        var lr = Assert.IsType<FloatParameter>(Assert.Single(space.Parameters));
        Assert.Equal("lr", lr.Name);
        Assert.Equal(1e-4, lr.Low);
        Assert.Equal(0.1, lr.High);
        Assert.True(lr.Log);
        Assert.Null(lr.Default);
        Assert.Null(lr.Condition);
        Assert.Empty(space.Validate());
    }

    [Fact]
    public void Deserialize_IntAndChoiceJson_GivesTypedParameters()
    {
        const string json = """
            {"parameters":[
              {"type":"int","name":"batch","low":8,"high":64,"step":8,"default":32},
              {"type":"choice","name":"optimizer","values":["sgd","adam"],"default":"adam"},
              {"type":"float","name":"momentum","low":0.5,"high":0.99,"condition":{"parameter":"optimizer","values":["sgd"]}}
            ]}
            """;

        var space = JsonSerializer.Deserialize<SearchSpace>(json, Web)!;

        var batch = Assert.IsType<IntParameter>(space["batch"]);
        Assert.Equal((8, 64, 8, false), (batch.Low, batch.High, batch.Step, batch.Log));
        Assert.Equal(ParameterValue.Of(32), batch.Default);
        var optimizer = Assert.IsType<ChoiceParameter>(space["optimizer"]);
        Assert.Equal(["sgd", "adam"], optimizer.Values.Select(v => v.AsString()));
        Assert.Equal(ParameterValue.Of("adam"), optimizer.Default);
        var momentum = Assert.IsType<FloatParameter>(space["momentum"]);
        Assert.Equal("optimizer", momentum.Condition!.Parameter);
        Assert.Equal([ParameterValue.Of("sgd")], momentum.Condition.Values);
        Assert.Empty(space.Validate());
    }

    [Fact]
    public void Deserialize_IntWithoutStep_DefaultsStepToOne()
    {
        var space = JsonSerializer.Deserialize<SearchSpace>("""{"parameters":[{"type":"int","name":"n","low":1,"high":5}]}""", Web)!;

        Assert.Equal(1, Assert.IsType<IntParameter>(Assert.Single(space.Parameters)).Step);
    }

    [Fact]
    public void Serialize_RichSpace_WritesTypeDiscriminators()
    {
        string json = JsonSerializer.Serialize(Spaces.Rich(), Web);

        using var doc = JsonDocument.Parse(json);
        var types = doc.RootElement.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("type").GetString());
        Assert.Equal(["float", "int", "int", "float", "choice", "float", "choice", "float", "choice"], types);
    }

    [Fact]
    public void SerializeDeserialize_RichSpace_RoundTrips()
    {
        var original = Spaces.Rich();

        string json = JsonSerializer.Serialize(original, Web);
        var read = JsonSerializer.Deserialize<SearchSpace>(json, Web)!;

        // Records compare lists by reference, so compare member by member.
        Assert.Equal(original.Parameters.Count, read.Parameters.Count);
        foreach (var (a, b) in original.Parameters.Zip(read.Parameters))
        {
            Assert.Equal(a.GetType(), b.GetType());
            Assert.Equal((a.Name, a.Default, a.Description), (b.Name, b.Default, b.Description));
            Assert.Equal(a.Condition?.Parameter, b.Condition?.Parameter);
            Assert.Equal(a.Condition?.Values, b.Condition?.Values);
            switch (a)
            {
                case FloatParameter f:
                    var g = (FloatParameter)b;
                    Assert.Equal((f.Low, f.High, f.Log), (g.Low, g.High, g.Log));
                    break;
                case IntParameter i:
                    var j = (IntParameter)b;
                    Assert.Equal((i.Low, i.High, i.Step, i.Log), (j.Low, j.High, j.Step, j.Log));
                    break;
                case ChoiceParameter c:
                    Assert.Equal(c.Values, ((ChoiceParameter)b).Values);
                    break;
            }
        }
        Assert.Equal(json, JsonSerializer.Serialize(read, Web));
        // The round-tripped space samples exactly as the original.
        Assert.Equal(Spaces.Samples(original, 50, seed: 5), Spaces.Samples(read, 50, seed: 5));
    }

    [Fact]
    public void Deserialize_UnknownType_Throws()
    {
        Assert.ThrowsAny<JsonException>(() =>
            JsonSerializer.Deserialize<SearchSpace>("""{"parameters":[{"type":"bool","name":"x"}]}""", Web));
    }

    [Fact]
    public void Deserialize_MissingRequiredBound_Throws()
    {
        Assert.ThrowsAny<JsonException>(() =>
            JsonSerializer.Deserialize<SearchSpace>("""{"parameters":[{"type":"float","name":"lr","low":0.1}]}""", Web));
    }

    [Fact]
    public void Deserialize_NullChoiceValues_ValidateReportsIt()
    {
        var space = JsonSerializer.Deserialize<SearchSpace>(
            """{"parameters":[{"type":"choice","name":"opt","values":null},{"type":"float","name":"m","low":0,"high":1,"condition":{"parameter":"opt","values":["sgd"]}}]}""",
            Web)!;

        Assert.Contains(space.Validate(), e => e.StartsWith("opt:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"parameters":null}""")]
    public void Deserialize_NoParameterList_GivesEmptySpace(string json)
    {
        var space = JsonSerializer.Deserialize<SearchSpace>(json, Web)!;

        Assert.Empty(space.Parameters);
        Assert.Empty(space.Validate());
        Assert.Empty(space.Sample(new Random(1)));
    }
}
