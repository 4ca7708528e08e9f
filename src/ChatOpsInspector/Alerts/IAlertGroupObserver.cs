namespace ChatOpsInspector.Alerts;

/// <summary>
/// Told about every group the dispatcher publishes, after its workflow is reconciled, so features such
/// as the SLA clock react to changes instead of scanning every group.
/// </summary>
internal interface IAlertGroupObserver
{
    Task OnGroupChangedAsync(AlertGroup group, CancellationToken cancellationToken);
}
