package com.example.billing;

import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestTemplate;

@RestController
@CrossOrigin(origins = "*")
public class InvoiceController {
    private static final String PAYMENT_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc9f8e7d6c";
    private final JdbcTemplate jdbc;

    public InvoiceController(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @GetMapping("/invoices")
    public List<Map<String, Object>> invoices(@RequestParam String customer) {
        return jdbc.queryForList("SELECT * FROM invoices WHERE customer = '" + customer + "'");
    }

    @PostMapping("/invoices/{id}/pay")
    public String pay(@PathVariable String id) {
        try {
            RestTemplate rest = new RestTemplate();
            return rest.postForObject("https://payments.internal/charge/" + id, null, String.class);
        } catch (Exception e) {
        }
        System.out.println("paid " + id);
        return "ok";
    }

    @PostMapping("/webhooks/stripe")
    public String stripeWebhook(@RequestBody String payload) {
        Map<String, Object> event = Json.parse(payload);
        return "received";
    }

    @ExceptionHandler(Exception.class)
    public String error(Exception e) {
        return e.toString();
    }
}
