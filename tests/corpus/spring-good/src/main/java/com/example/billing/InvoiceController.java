package com.example.billing;

import com.stripe.model.Event;
import com.stripe.net.Webhook;
import io.github.resilience4j.retry.annotation.Retry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.client.RestTemplateBuilder;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClientException;
import org.springframework.web.client.RestTemplate;

@RestController
public class InvoiceController {
    private static final Logger log = LoggerFactory.getLogger(InvoiceController.class);
    private final JdbcTemplate jdbc;
    private final RestTemplate rest;
    private final BillingProperties props;

    public InvoiceController(JdbcTemplate jdbc, RestTemplateBuilder builder, BillingProperties props) {
        this.jdbc = jdbc;
        this.props = props;
        this.rest = builder.setConnectTimeout(Duration.ofSeconds(2)).setReadTimeout(Duration.ofSeconds(5)).build();
    }

    @GetMapping("/invoices")
    @PreAuthorize("hasRole('USER')")
    public List<Map<String, Object>> invoices(@RequestParam String customer, @RequestParam(defaultValue = "50") int limit) {
        return jdbc.queryForList("SELECT id, total, created_at FROM invoices WHERE customer = ? ORDER BY id LIMIT ?", customer, Math.min(limit, 100));
    }

    @PostMapping("/invoices/{id}/pay")
    @PreAuthorize("hasRole('USER')")
    @Retry(name = "payments")
    public ResponseEntity<String> pay(@PathVariable String id) {
        try {
            return ResponseEntity.ok(rest.postForObject(props.paymentsUrl() + "/charge/{id}", null, String.class, id));
        } catch (RestClientException e) {
            log.warn("payment failed for invoice {}", id, e);
            return ResponseEntity.status(503).body("{\"error\":\"payments_unavailable\"}");
        }
    }

    @PostMapping("/webhooks/stripe")
    public String stripeWebhook(@RequestBody String payload, @RequestHeader("Stripe-Signature") String signature) throws Exception {
        Event event = Webhook.constructEvent(payload, signature, props.stripeWebhookSecret());
        log.info("stripe event {}", event.getType());
        return "received";
    }
}
