-- The progress trigger only matters when a lesson becomes COMPLETED: progress_percent counts completed
-- lessons. Watching a lesson (most RecordLessonProgress calls) no longer recounts anything.
DROP TRIGGER lesson_progress_refresh_enrollment ON lesson_progress;
CREATE TRIGGER lesson_progress_completed_on_insert AFTER INSERT ON lesson_progress
    FOR EACH ROW WHEN (NEW.state = 'COMPLETED') EXECUTE FUNCTION refresh_enrollment_progress();
CREATE TRIGGER lesson_progress_completed_on_update AFTER UPDATE OF state ON lesson_progress
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION refresh_enrollment_progress();
