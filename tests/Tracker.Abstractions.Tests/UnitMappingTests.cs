using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class UnitMappingTests
{
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(false, 0.25)]
    [InlineData(false, 0.5)]
    [InlineData(false, 0.999)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    [InlineData(true, 0.25)]
    [InlineData(true, 0.5)]
    [InlineData(true, 0.999)]
    [InlineData(true, 1.0)]
    public void FromUnitToUnit_Float_RoundTrips(bool log, double unit)
    {
        var lr = Spaces.LearningRate(log);

        var value = lr.FromUnit(unit);

        Assert.Null(lr.Check(value));
        Assert.Equal(unit, lr.ToUnit(value), 1e-12);
        Assert.Equal(value.AsDouble(), lr.FromUnit(lr.ToUnit(value)).AsDouble(), 1e-15);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FromUnit_FloatEnds_AreTheBounds(bool log)
    {
        var lr = Spaces.LearningRate(log);

        Assert.Equal(1e-4, lr.FromUnit(0).AsDouble());
        Assert.Equal(1e-1, lr.FromUnit(1).AsDouble());
        Assert.Equal(1e-4, lr.FromUnit(-3).AsDouble());
        Assert.Equal(1e-1, lr.FromUnit(7).AsDouble());
    }

    [Fact]
    public void FromUnit_LogFloatMiddle_IsGeometricMean()
    {
        Assert.Equal(Math.Sqrt(1e-5), Spaces.LearningRate(log: true).FromUnit(0.5).AsDouble(), 1e-15);
        Assert.Equal(0.05005, Spaces.LearningRate(log: false).FromUnit(0.5).AsDouble(), 1e-15);
    }

    [Theory]
    [InlineData(1e-4, 0.0)]
    [InlineData(1e-3, 1 / 3.0)]
    [InlineData(1e-2, 2 / 3.0)]
    [InlineData(1e-1, 1.0)]
    public void ToUnit_LogFloat_IsLogPosition(double value, double unit)
    {
        Assert.Equal(unit, Spaces.LearningRate(log: true).ToUnit(value), 1e-12);
    }

    [Theory]
    [InlineData(0, 10, 1, false)]
    [InlineData(8, 64, 8, false)]
    [InlineData(-6, 6, 3, false)]
    [InlineData(1, 16, 1, true)]
    [InlineData(1, 1024, 1, true)]
    public void FromUnitToUnit_Int_RoundTripsEveryValue(int low, int high, int step, bool log)
    {
        var p = new IntParameter { Name = "n", Low = low, High = high, Step = step, Log = log };

        for (int v = low; v <= high; v += step)
        {
            double unit = p.ToUnit(v);
            Assert.InRange(unit, 0, 1);
            Assert.Equal(v, p.FromUnit(unit).AsDouble());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FromUnit_IntEnds_AreTheBounds(bool log)
    {
        var p = new IntParameter { Name = "n", Low = 1, High = 16, Log = log };

        Assert.Equal(1, p.FromUnit(0).AsDouble());
        Assert.Equal(16, p.FromUnit(1).AsDouble());
        Assert.Equal(1, p.FromUnit(-1).AsDouble());
        Assert.Equal(16, p.FromUnit(2).AsDouble());
    }

    [Fact]
    public void FromUnit_IntUnitGrid_GivesEqualShares()
    {
        var batch = Spaces.BatchSize(); // eight values

        var values = Enumerable.Range(0, 800).Select(i => batch.FromUnit((i + 0.5) / 800).AsInt()).ToList();

        Assert.All(values.GroupBy(v => v), g => Assert.Equal(100, g.Count()));
    }

    [Fact]
    public void FromUnitToUnit_Choice_RoundTripsEveryValue()
    {
        var optimizer = Spaces.Optimizer();

        foreach (var value in optimizer.Values)
        {
            double unit = optimizer.ToUnit(value);
            Assert.InRange(unit, 0, 1);
            Assert.Equal(value, optimizer.FromUnit(unit));
        }
        Assert.Equal(["sgd", "adam", "adamw"], new[] { 0.0, 0.5, 1.0 }.Select(u => optimizer.FromUnit(u).AsString()));
    }

    [Fact]
    public void FromUnitToUnit_NumericChoice_RoundTripsEveryValue()
    {
        var layers = new ChoiceParameter { Name = "layers", Values = [1, 2, 3, 5] };

        Assert.Equal(layers.Values, layers.Values.Select(v => layers.FromUnit(layers.ToUnit(v))));
    }
}
