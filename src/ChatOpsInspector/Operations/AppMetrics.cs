using Prometheus;

namespace ChatOpsInspector.Operations;

/// <summary>
/// Prometheus metrics served at /metrics. Every label takes values from a fixed set chosen in code
/// (never a value from a request), so the number of series is bounded whatever is sent.
/// </summary>
internal static class AppMetrics
{
    public static readonly Counter EventsReceived = Metrics.CreateCounter(
        "coi_events_received_total", "Events received, by detail type (a closed set; anything else is 'other' or 'other_source').", "detail_type");

    public static readonly Counter EventsAccepted = Metrics.CreateCounter(
        "coi_events_accepted_total", "Findings stored as new or updated.");

    public static readonly Counter EventsDuplicate = Metrics.CreateCounter(
        "coi_events_duplicate_total", "Findings dropped because the event or updatedAt was already seen.");

    public static readonly Counter EventsIgnored = Metrics.CreateCounter(
        "coi_events_ignored_total", "Events accepted but storing nothing, by reason: not_a_finding, not_a_vulnerability, other_source.", "reason");

    public static readonly Counter EventsRejected = Metrics.CreateCounter(
        "coi_events_rejected_total", "Requests refused, by reason.", "reason");

    public static readonly Counter ChatCalls = Metrics.CreateCounter(
        "coi_chat_calls_total", "Chat API calls by platform, operation and outcome.", "platform", "operation", "outcome");

    public static readonly Counter AlertsPosted = Metrics.CreateCounter(
        "coi_alerts_posted_total", "Alert cards posted (first post of a group), by platform.", "platform");

    public static readonly Histogram StoreLatency = Metrics.CreateHistogram(
        "coi_store_latency_seconds", "State store call latency, by operation.",
        new HistogramConfiguration
        {
            LabelNames = ["operation"],
            Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16),
        });

    public static readonly Counter Errors = Metrics.CreateCounter(
        "coi_errors_total", "Errors handled without failing a request, by component.", "component");

    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "coi_queue_depth", "Items waiting in a durable work queue.", "queue");
}
