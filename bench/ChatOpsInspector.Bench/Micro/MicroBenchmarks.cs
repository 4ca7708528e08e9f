namespace ChatOpsInspector.Bench.Micro;

internal static class MicroBenchmarks
{
    public static Harness.Report? Run(BenchOptions options) => null;
}
