using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class SearchSpaceCheckTests
{
    private static Dictionary<string, ParameterValue> SgdPoint() => new()
    {
        ["lr"] = 0.01, ["batch"] = 32, ["width"] = 4, ["dropout"] = 0.1, ["optimizer"] = "sgd",
        ["momentum"] = 0.9, ["schedule"] = "step", ["gamma"] = 0.5, ["layers"] = 2,
    };

    private static Dictionary<string, ParameterValue> AdamPoint() => new()
    {
        ["lr"] = 0.01, ["batch"] = 32, ["width"] = 4, ["dropout"] = 0.1, ["optimizer"] = "adam", ["layers"] = 2,
    };

    private static string Checked(Dictionary<string, ParameterValue> point, Action<Dictionary<string, ParameterValue>> change)
    {
        change(point);
        var why = Spaces.Rich().Check(point);
        Assert.NotNull(why);
        return why;
    }

    [Fact]
    public void Check_SampledPoints_ReturnsNull()
    {
        var space = Spaces.Rich();

        Assert.All(Spaces.Samples(space, 200, seed: 11), point => Assert.Null(space.Check(point)));
    }

    [Fact]
    public void Check_HandWrittenPoints_ReturnsNull()
    {
        Assert.Null(Spaces.Rich().Check(SgdPoint()));
        Assert.Null(Spaces.Rich().Check(AdamPoint()));
    }

    [Fact]
    public void Check_PointAtTheBounds_ReturnsNull()
    {
        var point = AdamPoint();
        point["lr"] = 1e-4;
        point["batch"] = 64;
        point["dropout"] = 0.5;

        Assert.Null(Spaces.Rich().Check(point));
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("batch")]
    [InlineData("optimizer")]
    [InlineData("layers")]
    public void Check_MissingActiveParameter_NamesIt(string name)
    {
        var why = Checked(AdamPoint(), p => p.Remove(name));

        Assert.Equal($"{name}: missing.", why);
    }

    [Fact]
    public void Check_MissingActiveConditionalParameter_NamesIt()
    {
        var why = Checked(SgdPoint(), p => p.Remove("gamma"));

        Assert.Equal("gamma: missing.", why);
    }

    [Fact]
    public void Check_InactiveParameterPresent_NamesIt()
    {
        var why = Checked(AdamPoint(), p => p["momentum"] = 0.9);

        Assert.StartsWith("momentum:", why);
        Assert.Contains("optimizer", why);
    }

    [Fact]
    public void Check_NestedInactiveParameterPresent_NamesIt()
    {
        var why = Checked(SgdPoint(), p => p["schedule"] = "cosine");

        Assert.StartsWith("gamma:", why);
    }

    [Fact]
    public void Check_UnknownName_NamesIt()
    {
        var why = Checked(AdamPoint(), p => p["learning_rate"] = 0.01);

        Assert.Contains("'learning_rate'", why);
        Assert.Contains("not a parameter", why);
    }

    [Theory]
    [InlineData("lr", 0.5)]
    [InlineData("lr", 0.0)]
    [InlineData("lr", double.NaN)]
    [InlineData("lr", double.PositiveInfinity)]
    [InlineData("dropout", -0.1)]
    [InlineData("batch", 72)]
    [InlineData("batch", 0)]
    [InlineData("width", 17)]
    public void Check_OutOfRangeNumber_NamesIt(string name, double value)
    {
        var why = Checked(AdamPoint(), p => p[name] = value);

        Assert.StartsWith($"{name}:", why);
    }

    [Theory]
    [InlineData("batch", 32.5)]
    [InlineData("width", 3.000001)]
    public void Check_NonIntegerForInt_NamesIt(string name, double value)
    {
        var why = Checked(AdamPoint(), p => p[name] = value);

        Assert.StartsWith($"{name}:", why);
        Assert.Contains("integer", why);
    }

    [Fact]
    public void Check_IntOffTheStepGrid_NamesIt()
    {
        var why = Checked(AdamPoint(), p => p["batch"] = 12);

        Assert.StartsWith("batch:", why);
        Assert.Contains("grid", why);
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("dropout")]
    public void Check_StringForFloat_NamesIt(string name)
    {
        var why = Checked(AdamPoint(), p => p[name] = "0.01");

        Assert.StartsWith($"{name}:", why);
        Assert.Contains("number", why);
    }

    [Fact]
    public void Check_StringForInt_NamesIt()
    {
        var why = Checked(AdamPoint(), p => p["batch"] = "32");

        Assert.StartsWith("batch:", why);
    }

    [Theory]
    [InlineData("rmsprop")]
    [InlineData("SGD")]
    public void Check_ValueNotInChoice_NamesIt(string value)
    {
        var why = Checked(AdamPoint(), p => p["optimizer"] = value);

        Assert.StartsWith("optimizer:", why);
    }

    [Fact]
    public void Check_NumberGivenAsStringForNumericChoice_IsRejected()
    {
        var why = Checked(AdamPoint(), p => p["layers"] = "2");

        Assert.StartsWith("layers:", why);
    }

    [Fact]
    public void Check_EmptyPointOfEmptySpace_ReturnsNull()
    {
        Assert.Null(SearchSpace.Empty.Check(new Dictionary<string, ParameterValue>()));
    }
}
