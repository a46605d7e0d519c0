using Spectre.Console;
using Tracker.Cli;

// The first Ctrl+C asks the running command to stop cleanly (`tracker run` cancels its experiment, whose trials end
// Interrupted); a second one ends the process at once.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    interrupt.Cancel();
};
return await TrackerCli.RunAsync(args, AnsiConsole.Console, interrupt.Token);
