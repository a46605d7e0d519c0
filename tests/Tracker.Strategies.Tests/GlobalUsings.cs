global using Tracker.Abstractions;
global using Xunit;
