using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

internal static class InteractionsScenario
{
    public static Task<Report> RunAsync(BenchOptions options) => Task.FromResult(new Report("interactions"));
}
