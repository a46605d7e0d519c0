using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

/// <summary>CSV export cells: RFC 4180 quoting, and no cell that a spreadsheet would run as a formula.</summary>
public sealed class TrialExportTests
{
    [Theory]
    [InlineData("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0")]
    [InlineData("+SUM(A1:A9)", "'+SUM(A1:A9)")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@import", "'@import")]
    [InlineData("\tx", "'\tx")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("+1e-3", "+1e-3")]
    [InlineData("-Infinity", "-Infinity")]
    [InlineData("sgd", "sgd")]
    [InlineData("", "")]
    [InlineData("a=b", "a=b")]
    public void SpreadsheetSafe_FormulasBecomeText_NumbersStay(string cell, string expected) =>
        Assert.Equal(expected, TrialExport.SpreadsheetSafe(cell));

    [Fact]
    public void CsvLine_QuotesAfterMakingCellsSafe()
    {
        Assert.Equal("'=1+1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-3.25,\"a,b\"\r\n",
            TrialExport.CsvLine(["=1+1", "=HYPERLINK(\"http://x\",\"y\")", "-3.25", "a,b"]));
    }
}
