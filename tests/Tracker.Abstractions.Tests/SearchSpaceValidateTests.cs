using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class SearchSpaceValidateTests
{
    [Fact]
    public void Validate_RichValidSpace_ReturnsEmpty()
    {
        Assert.Empty(Spaces.Rich().Validate());
    }

    [Fact]
    public void Validate_EmptySpace_ReturnsEmpty()
    {
        Assert.Empty(SearchSpace.Empty.Validate());
    }

    [Theory]
    [InlineData(0.0, 1.0, false)]
    [InlineData(-5.0, 5.0, false)]
    [InlineData(1e-6, 1.0, true)]
    public void Validate_ValidFloatRange_ReturnsEmpty(double low, double high, bool log)
    {
        var space = new SearchSpace([new FloatParameter { Name = "x", Low = low, High = high, Log = log }]);

        Assert.Empty(space.Validate());
    }

    [Theory]
    [InlineData(0, 10, 1, false)]
    [InlineData(8, 64, 8, false)]
    [InlineData(-3, 3, 2, false)]
    [InlineData(1, 1024, 1, true)]
    public void Validate_ValidIntRange_ReturnsEmpty(int low, int high, int step, bool log)
    {
        var space = new SearchSpace([new IntParameter { Name = "n", Low = low, High = high, Step = step, Log = log }]);

        Assert.Empty(space.Validate());
    }

    /// <summary>One broken space per case: the space, the parameter the message must name, and a word of the reason.</summary>
    private static (SearchSpace Space, string Parameter, string Reason) Case(string name) => name switch
    {
        "InvertedFloatRange" => (new([new FloatParameter { Name = "lr", Low = 0.1, High = 0.01 }]), "lr", "less than"),
        "EmptyFloatRange" => (new([new FloatParameter { Name = "lr", Low = 0.1, High = 0.1 }]), "lr", "less than"),
        "NonFiniteFloatBound" => (new([new FloatParameter { Name = "lr", Low = 0, High = double.PositiveInfinity }]), "lr", "finite"),
        "NaNFloatBound" => (new([new FloatParameter { Name = "lr", Low = double.NaN, High = 1 }]), "lr", "finite"),
        "FloatLogWithZeroLow" => (new([new FloatParameter { Name = "lr", Low = 0, High = 0.1, Log = true }]), "lr", "log"),
        "FloatLogWithNegativeLow" => (new([new FloatParameter { Name = "lr", Low = -1, High = 0.1, Log = true }]), "lr", "log"),
        "InvertedIntRange" => (new([new IntParameter { Name = "batch", Low = 64, High = 8 }]), "batch", "less than"),
        "EmptyIntRange" => (new([new IntParameter { Name = "batch", Low = 8, High = 8 }]), "batch", "less than"),
        "IntStepNotDividingRange" => (new([new IntParameter { Name = "batch", Low = 8, High = 60, Step = 8 }]), "batch", "multiple of step"),
        "IntZeroStep" => (new([new IntParameter { Name = "batch", Low = 8, High = 64, Step = 0 }]), "batch", "step must be positive"),
        "IntNegativeStep" => (new([new IntParameter { Name = "batch", Low = 8, High = 64, Step = -8 }]), "batch", "step must be positive"),
        "IntLogWithZeroLow" => (new([new IntParameter { Name = "width", Low = 0, High = 64, Log = true }]), "width", "log"),
        "IntLogWithStep" => (new([new IntParameter { Name = "width", Low = 2, High = 64, Step = 2, Log = true }]), "width", "step 1"),
        "EmptyChoice" => (new([new ChoiceParameter { Name = "optimizer", Values = [] }]), "optimizer", "at least one"),
        "NullChoiceValues" => (new([new ChoiceParameter { Name = "optimizer", Values = null! }]), "optimizer", "at least one"),
        "DuplicateChoiceStrings" => (new([new ChoiceParameter { Name = "optimizer", Values = ["sgd", "adam", "sgd"] }]), "optimizer", "distinct"),
        "DuplicateChoiceNumbers" => (new([new ChoiceParameter { Name = "layers", Values = [1, 2, 2.0] }]), "layers", "distinct"),
        "DuplicateNames" => (new([Spaces.LearningRate(), new FloatParameter { Name = "lr", Low = 0, High = 1 }]), "lr", "twice"),
        "DuplicateNamesIgnoringCase" => (new([Spaces.LearningRate(), new FloatParameter { Name = "LR", Low = 0, High = 1 }]), "LR", "twice"),
        "NameWithSpace" => (new([new FloatParameter { Name = "learning rate", Low = 0, High = 1 }]), "learning rate", "name"),
        "NameWithSlash" => (new([new FloatParameter { Name = "a/b", Low = 0, High = 1 }]), "a/b", "name"),
        "FloatDefaultOutsideRange" => (new([new FloatParameter { Name = "lr", Low = 1e-4, High = 1e-1, Default = 0.5 }]), "lr", "default"),
        "FloatDefaultIsString" => (new([new FloatParameter { Name = "lr", Low = 1e-4, High = 1e-1, Default = "fast" }]), "lr", "default"),
        "IntDefaultOutsideRange" => (new([new IntParameter { Name = "batch", Low = 8, High = 64, Default = 128 }]), "batch", "default"),
        "IntDefaultOffGrid" => (new([new IntParameter { Name = "batch", Low = 8, High = 64, Step = 8, Default = 12 }]), "batch", "default"),
        "ChoiceDefaultNotAValue" => (new([new ChoiceParameter { Name = "optimizer", Values = ["sgd", "adam"], Default = "rmsprop" }]), "optimizer", "default"),
        "ConditionOnUnknownParameter" => (new([Spaces.Optimizer(),
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimiser", ["sgd"]) }]), "momentum", "optimiser"),
        "ConditionOnLaterParameter" => (new([
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimizer", ["sgd"]) }, Spaces.Optimizer()]), "momentum", "earlier"),
        "ConditionOnItself" => (new([
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("momentum", [0.5]) }]), "momentum", "earlier"),
        "ConditionValueNotInParentDomain" => (new([Spaces.Optimizer(),
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimizer", ["rmsprop"]) }]), "momentum", "rmsprop"),
        "ConditionValueOutsideParentRange" => (new([Spaces.BatchSize(),
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("batch", [12]) }]), "momentum", "batch"),
        "ConditionWithNoValues" => (new([Spaces.Optimizer(),
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimizer", []) }]), "momentum", "no values"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    [Theory]
    [InlineData("InvertedFloatRange")]
    [InlineData("EmptyFloatRange")]
    [InlineData("NonFiniteFloatBound")]
    [InlineData("NaNFloatBound")]
    [InlineData("FloatLogWithZeroLow")]
    [InlineData("FloatLogWithNegativeLow")]
    [InlineData("InvertedIntRange")]
    [InlineData("EmptyIntRange")]
    [InlineData("IntStepNotDividingRange")]
    [InlineData("IntZeroStep")]
    [InlineData("IntNegativeStep")]
    [InlineData("IntLogWithZeroLow")]
    [InlineData("IntLogWithStep")]
    [InlineData("EmptyChoice")]
    [InlineData("NullChoiceValues")]
    [InlineData("DuplicateChoiceStrings")]
    [InlineData("DuplicateChoiceNumbers")]
    [InlineData("DuplicateNames")]
    [InlineData("DuplicateNamesIgnoringCase")]
    [InlineData("NameWithSpace")]
    [InlineData("NameWithSlash")]
    [InlineData("FloatDefaultOutsideRange")]
    [InlineData("FloatDefaultIsString")]
    [InlineData("IntDefaultOutsideRange")]
    [InlineData("IntDefaultOffGrid")]
    [InlineData("ChoiceDefaultNotAValue")]
    [InlineData("ConditionOnUnknownParameter")]
    [InlineData("ConditionOnLaterParameter")]
    [InlineData("ConditionOnItself")]
    [InlineData("ConditionValueNotInParentDomain")]
    [InlineData("ConditionValueOutsideParentRange")]
    [InlineData("ConditionWithNoValues")]
    public void Validate_InvalidSpace_ReturnsOneMessageNamingTheParameter(string caseName)
    {
        var (space, parameter, reason) = Case(caseName);

        var error = Assert.Single(space.Validate());

        Assert.True(error.StartsWith(parameter + ":", StringComparison.Ordinal) || error.StartsWith($"'{parameter}':", StringComparison.Ordinal),
            $"'{error}' does not start with the parameter name '{parameter}'.");
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void Validate_BlankName_ReturnsNameMessage(string name)
    {
        var space = new SearchSpace([new FloatParameter { Name = name, Low = 0, High = 1 }]);

        var error = Assert.Single(space.Validate());

        Assert.Contains("name must be non-empty", error);
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("model.width")]
    [InlineData("drop_out-2")]
    public void Validate_GoodName_ReturnsEmpty(string name)
    {
        Assert.Empty(new SearchSpace([new FloatParameter { Name = name, Low = 0, High = 1 }]).Validate());
    }

    [Fact]
    public void Validate_SeveralProblems_ListsEveryOne()
    {
        var space = new SearchSpace(
        [
            new FloatParameter { Name = "lr", Low = 0.1, High = 0.01 },
            new IntParameter { Name = "batch", Low = 8, High = 60, Step = 8 },
            new ChoiceParameter { Name = "optimizer", Values = [] },
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("nope", ["sgd"]) },
        ]);

        var errors = space.Validate();

        Assert.Equal(4, errors.Count);
        Assert.Equal(["lr", "batch", "optimizer", "momentum"], errors.Select(e => e[..e.IndexOf(':')]));
    }

    [Fact]
    public void Validate_ConditionOnInvalidChoice_ReportsWithoutThrowing()
    {
        // A parent whose values are missing (as JSON with "values": null gives) must not make Validate throw.
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "optimizer", Values = null! },
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimizer", ["sgd"]) },
        ]);

        var errors = space.Validate();

        Assert.Contains(errors, e => e.StartsWith("optimizer:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NullParameter_ReportsIt()
    {
        var space = new SearchSpace(
        [
            null!,
            Spaces.Optimizer(),
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new("optimizer", ["sgd"]) },
        ]);

        Assert.Equal(["a parameter is null."], space.Validate());
    }
}
