# The network sandbox (VK, OK, Telegram on one port) for demos and staging; never used in production.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY sandbox ./sandbox
EXPOSE 8900
CMD ["python", "-m", "sandbox", "--host", "0.0.0.0", "--port", "8900", "--world", "sandbox/worlds/demo.json"]
