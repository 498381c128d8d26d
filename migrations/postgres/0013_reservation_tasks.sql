-- A reservation names the task its call was for, so that a task claimed again after its worker
-- died gives back that worker's holds at once instead of after their 15-minute expiry (the old
-- worker is fenced out by the new claim: its call can no longer be recorded).
ALTER TABLE budget_reservations ADD COLUMN task_id TEXT;
CREATE INDEX budget_reservations_task ON budget_reservations (task_id);
