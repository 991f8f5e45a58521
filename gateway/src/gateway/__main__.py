from gateway.app import create_app
from gateway.settings import Settings
from shared.web import run

settings = Settings()
run(lambda: create_app(settings), host=settings.host, port=settings.port, workers=settings.workers)
