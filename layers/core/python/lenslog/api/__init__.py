"""The audit API: a Powertools REST resolver with one ``Router`` per area.

``lenslog.api.app.build_app`` composes the routers; the Lambda handler (``functions/audit_api``)
and the local server (``lenslog.local.api``) both resolve API Gateway proxy events with it, after
putting the cell's :class:`~lenslog.services.audit.AuditService` in the resolver's context.
"""
