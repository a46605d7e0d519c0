global using Tracker.Abstractions;
global using Tracker.Core.Experiments;
global using Tracker.Core.Storage;
global using Tracker.Core.Tracking;
global using Xunit;
